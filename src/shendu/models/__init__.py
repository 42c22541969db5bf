"""Reference architectures: LeNet5, the seeds' CIFAR-10 CNN, VGG, ResNet (textbook 9.11 classic architectures)."""
from .lenet import LeNet5  # noqa: F401  (issue 6)
from .cifar_cnn import CifarCNN  # noqa: F401  (issue 6)
from .vgg import VGG, vgg_small  # noqa: F401  (issue 6)
from .resnet import BasicBlock, ResNet, resnet_cifar  # noqa: F401  (issue 6)
from .seq2seq import Seq2Seq  # noqa: F401  (issue 7)
