"""A training loop with TensorDataset / random_split / DataLoader, in the style of the PyTorch "Learn the
Basics" tutorial: classify three Gaussian blobs, evaluate on a held-out split, save and reload the weights."""
import os
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(42)
rng = np.random.default_rng(0)
centers = np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])
labels = rng.integers(0, 3, 900)
points = centers[labels] + 0.7 * rng.standard_normal((900, 2))
dataset = TensorDataset(torch.from_numpy(points).float(), torch.from_numpy(labels).long())
train_set, test_set = random_split(dataset, [700, 200], generator=torch.Generator().manual_seed(42))

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
train_dataloader = DataLoader(train_set, batch_size=64, shuffle=True, num_workers=0, pin_memory=False)
test_dataloader = DataLoader(test_set, batch_size=64)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(2, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
            nn.ReLU(),
            nn.Linear(32, 3),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 5 == 0:
            loss, current = loss.item(), batch * 64 + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return test_loss, correct


history = []
for t in range(8):
    print(f"Epoch {t+1}\n-------------------------------")
    train_loop(train_dataloader, model, loss_fn, optimizer)
    history.append(test_loop(test_dataloader, model, loss_fn))

path = os.path.join(tempfile.mkdtemp(), "model.pth")
torch.save(model.state_dict(), path)
reloaded = NeuralNetwork().to(device)
reloaded.load_state_dict(torch.load(path, weights_only=True))
reloaded.eval()
X, y = next(iter(test_dataloader))
with torch.no_grad():
    X = X.to(device)
    same = torch.allclose(reloaded(X), model(X))
print("Done!", same)
