"""``shendu.nn.modules.rnn``: PyTorch's ``torch.nn.modules.rnn`` path for the classes of nn.layers.recurrent."""
from ..layers.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell  # noqa: F401
