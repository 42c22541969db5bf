"""Training workflow (textbook 8.1.3 minibatch training, 7.8 early stopping): fit/evaluate/predict,
History, callbacks, the two retraining strategies after early stopping, Keras-style `model.compile/fit`."""
from . import callbacks
from .callbacks import (Callback, CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint, ProgressBar,
                        TensorBoard, TerminateOnNaN)
from .history import History
from .keras import TrainingMixin, install
from .loop import Trainer, evaluate, fit, make_loader, predict
from .retrain import early_stopping_continue, early_stopping_retrain, split_train

install()  # model.compile / model.fit / model.evaluate / model.predict on every nn.Module

__all__ = ["fit", "evaluate", "predict", "Trainer", "History", "make_loader", "callbacks", "Callback",
           "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler", "CSVLogger", "TensorBoard", "ProgressBar",
           "TerminateOnNaN", "TrainingMixin", "install", "split_train", "early_stopping_retrain",
           "early_stopping_continue"]
