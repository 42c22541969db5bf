"""LSTM on a toy sequence task in the style of time-series tutorials: predict the next sample of noisy sine
waves from a window of the previous ones."""
import math

import torch
import torch.nn as nn

torch.manual_seed(0)


def make_windows(n, window=20):
    phase = torch.rand(n, 1) * 2 * math.pi
    freq = 0.2 + 0.2 * torch.rand(n, 1)
    t = torch.arange(window + 1).float().unsqueeze(0)
    wave = torch.sin(freq * t + phase)
    return wave[:, :-1].unsqueeze(-1), wave[:, -1:]


class SeqModel(nn.Module):
    def __init__(self, hidden_size=32, num_layers=1):
        super().__init__()
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden_size, num_layers=num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, 1)

    def forward(self, x):
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        c0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
        self.lstm.flatten_parameters()
        out, (hn, cn) = self.lstm(x, (h0, c0))
        return self.fc(out[:, -1, :])


x_train, y_train = make_windows(256)
x_test, y_test = make_windows(64)
model = SeqModel()
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

losses = []
for epoch in range(60):
    model.train()
    permutation = torch.randperm(x_train.size(0))
    for i in range(0, x_train.size(0), 64):
        idx = permutation[i:i + 64]
        optimizer.zero_grad()
        loss = criterion(model(x_train[idx]), y_train[idx])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
    losses.append(loss.item())
    if epoch % 10 == 0:
        print(f"epoch {epoch}: loss {loss:.5f}")

model.eval()
with torch.no_grad():
    test_loss = criterion(model(x_test), y_test).item()
print(f"test MSE {test_loss:.5f}")
