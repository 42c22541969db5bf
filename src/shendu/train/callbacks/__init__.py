"""Callbacks for `fit` (Keras-style hooks): early stopping (textbook 7.8), checkpoints, schedules, logging."""
from .base import Callback, CallbackList
from .batch_size import BatchSizeScheduler
from .checkpoint import ModelCheckpoint
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .lr_scheduler import LearningRateScheduler
from .nan import TerminateOnNaN
from .parallel_validation import ParallelValidation
from .progress import ProgressBar
from .tensorboard import TensorBoard

__all__ = ["Callback", "CallbackList", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler", "CSVLogger",
           "TensorBoard", "ProgressBar", "TerminateOnNaN", "ParallelValidation", "BatchSizeScheduler"]
