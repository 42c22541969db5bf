"""DBN (greedy layer-wise RBMs, then an MLP), stacked-autoencoder pretraining, and the 7.6 semi-supervised objective.

Few-epoch regime on digits (1 epoch of SGD fine-tuning, lr 0.5): measured test accuracies, seeds 0-2:
DBN [64, 100]: 0.842 / 0.831 / 0.828 vs the same MLP from random init 0.289 / 0.244 / 0.211;
stacked autoencoders [64, 100, 100]: 0.908 / 0.925 / 0.911 vs random init 0.100 / 0.097 / 0.097."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.data.datasets import load_digits
from shendu.models import DBN, SemiSupervisedAutoEncoder, pretrain_stacked_autoencoders
from shendu.nn.functional import cross_entropy, mse_loss
from shendu.train.strategies import accuracy, minibatch_fit


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def _fine_tune(model, digits, epochs=1, seed=0):
    (xtr, ytr), (xte, yte) = digits
    minibatch_fit(model, lambda a, b: cross_entropy(model(a), b), (xtr, ytr), epochs, 32, lr=0.5, seed=seed)
    return accuracy(model, xte, yte)


def _random_mlp(sizes, seed):
    sd.manual_seed(seed)
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], 10))


def test_dbn_to_mlp_copies_rbm_weights_and_transform_matches():
    dbn = DBN([6, 5, 4], dtype=np.float64)
    mlp = dbn.to_mlp(3)
    assert [type(m).__name__ for m in mlp] == ["Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"]
    np.testing.assert_array_equal(mlp[0].weight.numpy(), dbn.rbms[0].W.numpy().T)
    np.testing.assert_array_equal(mlp[2].bias.numpy(), dbn.rbms[1].c.numpy())
    x = np.random.default_rng(0).uniform(size=(7, 6))
    np.testing.assert_allclose(mlp[:4](sd.tensor(x)).numpy(), dbn.transform(x).numpy(), rtol=1e-12)
    assert dbn.to_mlp()[-1].__class__.__name__ == "Sigmoid"
    with pytest.raises(ValueError, match=r"DBN.pretrain.*\(N, 6\)"):
        dbn.pretrain(np.zeros((3, 5)))


def test_dbn_pretraining_lowers_reconstruction_error_layer_by_layer(digits):
    (xtr, _), _ = digits
    sd.manual_seed(0)
    dbn = DBN([64, 32, 16])
    before = [dbn.rbms[0].reconstruction_error(xtr)]
    w1 = dbn.rbms[1].W.numpy().copy()
    errs = dbn.pretrain(xtr, epochs=1, layers=[0], lr=0.5, momentum=0.5)
    np.testing.assert_array_equal(dbn.rbms[1].W.numpy(), w1)  # only layer 0 trained
    assert len(errs) == 1 and errs[0] < 0.5 * before[0]
    errs = dbn.pretrain(xtr, epochs=2, lr=0.5, momentum=0.5)
    assert len(errs) == 2 and all(e < 0.05 for e in errs)


def test_dbn_initialisation_beats_random_init_in_the_few_epoch_regime(digits):
    (xtr, _), _ = digits
    sd.manual_seed(0)
    dbn = DBN([64, 100])
    dbn.pretrain(xtr, epochs=10, lr=0.5, momentum=0.5, seed=0)
    acc_dbn = _fine_tune(dbn.to_mlp(10), digits)
    acc_rand = _fine_tune(_random_mlp([64, 100], 100), digits)
    assert acc_dbn > 0.75 and acc_dbn > acc_rand + 0.3  # measured 0.842 vs 0.289


def test_stacked_autoencoders_initialise_an_mlp_that_fine_tunes_fast(digits):
    (xtr, _), _ = digits
    sd.manual_seed(0)
    model = pretrain_stacked_autoencoders([64, 100, 100], xtr, epochs=5, n_classes=10, seed=0)
    assert [type(m).__name__ for m in model] == ["Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"]
    assert model[0].weight.shape == (100, 64) and model[2].weight.shape == (100, 100)
    assert model.pretrain_losses[0] < 0.02  # mean predictor: 0.074
    acc_pre = _fine_tune(model, digits)
    acc_rand = _fine_tune(_random_mlp([64, 100, 100], 100), digits)
    assert acc_pre > 0.85 and acc_rand < 0.3  # measured 0.908 vs 0.100
    with pytest.raises(ValueError, match="optimizer"):
        pretrain_stacked_autoencoders([64, 8], xtr[:10], optimizer="lbfgs")


def test_semi_supervised_loss_is_ce_plus_lambda_reconstruction_and_learns(digits):
    (xtr, ytr), (xte, yte) = digits
    sd.manual_seed(0)
    m = SemiSupervisedAutoEncoder([64, 32], 10, lam=2.0)
    xl, yl, xu = sd.tensor(xtr[:5]), sd.tensor(ytr[:5]), sd.tensor(xtr[5:12])
    x_all = sd.tensor(xtr[:12])
    want = cross_entropy(m(xl), yl).item() + 2.0 * mse_loss(m.autoencoder(x_all), x_all).item()
    assert m.loss(xl, yl, xu).item() == pytest.approx(want, rel=1e-6)
    m0 = SemiSupervisedAutoEncoder([64, 32], 10, lam=0.0)
    m0.loss(xl, yl, xu).backward()
    assert all(p.grad is None for p in m0.autoencoder.decoder.parameters())  # lam = 0: purely discriminative
    # 50 labels + unlabelled batches: measured test accuracy lam=10 vs 0: 0.747/0.747, 0.822/0.806, 0.858/0.833
    rng = np.random.default_rng(0)
    lab = rng.choice(len(xtr), 50, replace=False)
    sd.manual_seed(0)
    m = SemiSupervisedAutoEncoder([64, 32], 10, lam=10.0)
    opt = sd.optim.Adam(m.parameters(), lr=1e-2)
    xl, yl = sd.tensor(xtr[lab]), sd.tensor(ytr[lab])
    for _ in range(150):
        opt.zero_grad()
        m.loss(xl, yl, sd.tensor(xtr[rng.choice(len(xtr), 64)])).backward()
        opt.step()
    assert accuracy(m, xte, yte) > 0.65
    with sd.no_grad():
        assert mse_loss(m.autoencoder.reconstruct(sd.tensor(xte)), sd.tensor(xte)).item() < 0.03
