"""MLP regression in the style of introductory PyTorch tutorials: fit y = sin(x) + noise with nn.Sequential."""
import torch
import torch.nn as nn

torch.manual_seed(0)
x = torch.linspace(-3, 3, 256).unsqueeze(1)
y = torch.sin(x) + 0.05 * torch.randn(x.size())

model = nn.Sequential(
    nn.Linear(1, 32),
    nn.Tanh(),
    nn.Linear(32, 32),
    nn.Tanh(),
    nn.Linear(32, 1),
)
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

losses = []
for epoch in range(200):
    pred = model(x)
    loss = criterion(pred, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if epoch % 50 == 0:
        print(f"epoch {epoch:3d}  loss {loss:.4f}")

model.eval()
with torch.no_grad():
    test_x = torch.tensor([[0.5], [1.5], [-2.0]])
    test_err = (model(test_x) - torch.sin(test_x)).abs().max().item()
print(f"final loss {losses[-1]:.4f}, max test error {test_err:.3f}")
