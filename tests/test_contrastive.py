"""The contrastive losses (InfoNCE, NT-Xent, supervised contrastive, CLIP, SigLIP): hand values; an
mpmath oracle of each loss given exact logits, in value and gradient, at logits up to +-100, confident
rows and ties; the published code's formulas written out (SimCLR, SupContrast, open_clip, big_vision)
and pytorch-metric-learning; stability at tau = 0.01, zero embeddings, anchors without a positive;
float32 conditioning from embeddings; CLIP's clipped scale and the modules' parameters; bad input.

The generic properties (smoke, gradcheck of the default call, compile, meta, autocast, vmap, NaN,
module == function) are in tests/test_registry_losses.py.
"""

import math

import mpmath
import pytest
import torch
import torch.nn.functional as F
from pytorch_metric_learning import losses as pml

import lossref
from lossref.contrastive import CLIP_MAX_LOGIT_SCALE

D = torch.float64
#: digits of the oracle (set locally with workdps, so other tests' mpmath precision is untouched)
DIGITS = 40
#: tolerances of the oracle comparison, relative (measures in _value_error and _grad_error)
TOL = {torch.float32: 1e-6, torch.float64: 1e-13}


def t(values, dtype=D, **kw):
    return torch.tensor(values, dtype=dtype, **kw)


def leaves(*tensors):
    return [x.detach().clone().requires_grad_(True) for x in tensors]


# -- hand values ---------------------------------------------------------------------------------------

E1, E2, E3 = t([1.0, 0.0, 0.0]), t([0.0, 1.0, 0.0]), t([0.0, 0.0, 1.0])


def test_info_nce_hand_values():
    # q = (e1, e2, e3), k = (e1, e2, -e1): cosines q_i . k_j = [[1, 0, -1], [0, 1, 0], [0, 0, 0]];
    # tau = 0.5 doubles them. Row 0: -log(e^2 / (e^2 + 1 + e^-2)) = log(1 + e^-2 + e^-4);
    # row 1: log(1 + 2 e^-2); row 2: three equal logits, log 3
    q, k = torch.stack([E1, E2, E3]), torch.stack([E1, E2, -E1]) * 3.0  # the norm 3 is normalized away
    rows = [math.log(1 + math.exp(-2) + math.exp(-4)), math.log(1 + 2 * math.exp(-2)), math.log(3)]
    out = lossref.info_nce(q, k, temperature=0.5, reduction="none")
    assert out.tolist() == pytest.approx(rows, rel=1e-14)
    assert lossref.info_nce(q, k, temperature=0.5).item() == pytest.approx(sum(rows) / 3, rel=1e-14)
    assert lossref.info_nce(q, k, temperature=0.5, reduction="sum").item() == pytest.approx(sum(rows))
    # explicit negatives e2 and -e1 for the one query e1 with key e1: candidates 1 (positive), 0, -1
    # at tau = 0.5: log(1 + e^-2 + e^-4), in both modes
    one = E1.unsqueeze(0)
    negatives = torch.stack([E2, -E1])
    expected = math.log(1 + math.exp(-2) + math.exp(-4))
    assert lossref.info_nce(one, one, negatives, 0.5).item() == pytest.approx(expected, rel=1e-14)
    paired = lossref.info_nce(one, one, negatives.unsqueeze(0), 0.5, negative_mode="paired")
    assert paired.item() == pytest.approx(expected, rel=1e-14)


def test_nt_xent_hand_values():
    # views x1 = (e1, e2), x2 = (e1, -e1); z = (a0, a1, b0, b1) = (e1, e2, e1, -e1), tau = 1.
    # Similarities (self left out):  a0: a1 0, b0 1, b1 -1;  a1: a0 0, b0 0, b1 0;
    #                                b0: a0 1, a1 0, b1 -1;  b1: a0 -1, a1 0, b0 -1.
    # l(a0) = -log(e / (1 + e + 1/e)) = log(1 + e^-1 + e^-2) = l(b0) (positive 1, others 0 and -1)
    # l(a1) = log 3 (three logits 0);  l(b1) = -log(1 / (2/e + 1)) = log(1 + 2/e)
    x1, x2 = torch.stack([E1, E2]), torch.stack([E1, -E1])
    first = math.log(1 + math.exp(-1) + math.exp(-2))
    second = (math.log(3) + math.log(1 + 2 * math.exp(-1))) / 2
    out = lossref.nt_xent(x1, x2, temperature=1.0, reduction="none")
    assert out.tolist() == pytest.approx([first, second], rel=1e-14)
    # 'mean' is the paper's 1/(2N) sum over the 2N anchors
    assert lossref.nt_xent(x1, x2, temperature=1.0).item() == pytest.approx((first + second) / 2, rel=1e-14)


def test_supervised_contrastive_hand_values():
    # z = (e1, e2, -e1), labels (0, 0, 1), tau = 1: z0.z1 = 0, z0.z2 = -1, z1.z2 = 0.
    # anchor 0: positive 1 (logit 0), candidates {0, -1}: log(1 + e^-1)
    # anchor 1: positive 0 (logit 0), candidates {0, 0}: log 2;  anchor 2: no positive, 0
    z = torch.stack([E1, E2, -E1])
    out = lossref.supervised_contrastive(z, torch.tensor([0, 0, 1]), 1.0, reduction="none")
    assert out.tolist() == pytest.approx([math.log(1 + math.exp(-1)), math.log(2), 0.0], rel=1e-14)
    mean = lossref.supervised_contrastive(z, torch.tensor([0, 0, 1]), 1.0)
    assert mean.item() == pytest.approx((math.log(1 + math.exp(-1)) + math.log(2)) / 3, rel=1e-14)
    # z = (e1, e1, -e1), one label: anchor 0 has positives 1 (logit 1) and 2 (logit -1), the mean of
    # -log p over both: -((1 - L) + (-1 - L)) / 2 = L = log(e + 1/e); anchor 1 the same; anchor 2
    # has logits -1 and -1, both positives: -log(1/2) = log 2
    z = torch.stack([E1, E1, -E1])
    out = lossref.supervised_contrastive(z, torch.tensor([5, 5, 5]), 1.0, reduction="none")
    lse = math.log(math.e + 1 / math.e)
    assert out.tolist() == pytest.approx([lse, lse, math.log(2)], rel=1e-14)


def test_clip_hand_values():
    # images (e1, e2, e3), texts (e1, e2, -e1): S = [[1, 0, -1], [0, 1, 0], [0, 0, 0]], scale e^t = 2:
    # logits [[2, 0, -2], [0, 2, 0], [0, 0, 0]].
    # rows (image -> text):   log(1 + e^-2 + e^-4), log(1 + 2 e^-2), log 3
    # columns (text -> image): [2, 0, 0] -> log(1 + 2 e^-2); [0, 2, 0] -> log(1 + 2 e^-2);
    #                          [-2, 0, 0] with the positive 0 -> -log(1 / (e^-2 + 2)) = log(2 + e^-2)
    img, txt = torch.stack([E1, E2, E3]), torch.stack([E1, E2, -E1])
    rows = [math.log(1 + math.exp(-2) + math.exp(-4)), math.log(1 + 2 * math.exp(-2)), math.log(3)]
    cols = [math.log(1 + 2 * math.exp(-2)), math.log(1 + 2 * math.exp(-2)), math.log(2 + math.exp(-2))]
    expected = [(r + c) / 2 for r, c in zip(rows, cols, strict=True)]
    out = lossref.clip_loss(img, txt, math.log(2.0), reduction="none")
    assert out.tolist() == pytest.approx(expected, rel=1e-14)
    assert lossref.clip_loss(img, txt, math.log(2.0)).item() == pytest.approx(sum(expected) / 3, rel=1e-14)


def test_siglip_hand_values():
    # the same S, scale 2, bias -1: logits 2 S - 1 = [[1, -1, -3], [-1, 1, -1], [-1, -1, -1]];
    # -log sigma(z x) = log(1 + e^(-z x)), z = +1 on the diagonal and -1 off it:
    # row 0: diagonal 1 -> log(1 + e^-1); -1 and -3 off it -> log(1 + e^-1) + log(1 + e^-3)
    # row 1: log(1 + e^-1) three times;  row 2: off-diagonal -1, -1 -> 2 log(1 + e^-1), diagonal -1
    # -> log(1 + e)
    img, txt = torch.stack([E1, E2, E3]), torch.stack([E1, E2, -E1])
    a = math.log(1 + math.exp(-1))
    rows = [2 * a + math.log(1 + math.exp(-3)), 3 * a, 2 * a + math.log(1 + math.e)]
    out = lossref.siglip_loss(img, txt, math.log(2.0), -1.0, reduction="none")
    assert out.tolist() == pytest.approx(rows, rel=1e-14)
    # 'mean' is the sum over all N^2 pairs divided by N (not by N^2)
    assert lossref.siglip_loss(img, txt, math.log(2.0), -1.0).item() == pytest.approx(
        sum(rows) / 3, rel=1e-14
    )


# -- the mpmath oracle, given exact logits -------------------------------------------------------------


def _mp(x):
    """A tensor's values as mpmath numbers, exactly (binary floats convert without rounding)."""
    if x.dim() == 0:
        return mpmath.mpf(x.item())
    return [_mp(row) for row in x.double()]


def _softmax_oracle(logits, candidates, positives):
    """Per-anchor -(1/|P|) sum_{p in P} log softmax_C(L_i)_p (0 without a positive), and its gradient
    with respect to L: softmax_C(L_i) minus 1/|P| on the positives. Written without cancellation, so
    that 40 digits resolve a loss of e^-200: -log p_p = log1p(sum_{c != p} e^(L_c - L_p)), and for a
    positive c, |P| p_c - 1 = -sum_{c' in P} p_c expm1(L_c' - L_c) - sum_{c' not in P} p_c'."""
    losses, grads = [], []
    for row, cand, pos in zip(logits, candidates, positives, strict=True):
        grad = [mpmath.mpf(0)] * len(row)
        if not pos:
            losses.append(mpmath.mpf(0))
            grads.append(grad)
            continue
        k = len(pos)
        prob = {c: 1 / mpmath.fsum(mpmath.exp(row[a] - row[c]) for a in cand) for c in cand}
        losses.append(
            mpmath.fsum(
                mpmath.log1p(mpmath.fsum(mpmath.exp(row[c] - row[p]) for c in cand if c != p)) for p in pos
            )
            / k
        )
        for c in cand:
            if c not in pos:
                grad[c] = prob[c]
            else:
                inside = mpmath.fsum(prob[c] * mpmath.expm1(row[a] - row[c]) for a in pos)
                outside = mpmath.fsum(prob[a] for a in cand if a not in pos)
                grad[c] = -(inside + outside) / k
        grads.append(grad)
    return losses, grads


def _transpose(m):
    return [list(col) for col in zip(*m, strict=True)]


def _gram_oracle(z, candidates, positives):
    """For losses over G = z z^T: per-anchor losses, d sum / dz = (Gbar + Gbar^T) z, and each gradient
    entry's scale sum_j |Gbar_ij + Gbar_ji| |z_jk| (what the rounding of a sum of terms is relative to)."""
    g = [[mpmath.fsum(a * b for a, b in zip(u, v, strict=True)) for v in z] for u in z]
    losses, gbar = _softmax_oracle(g, candidates, positives)
    n, d = len(z), len(z[0])
    sym = [[gbar[i][j] + gbar[j][i] for j in range(n)] for i in range(n)]
    grad = [[mpmath.fsum(sym[i][j] * z[j][k] for j in range(n)) for k in range(d)] for i in range(n)]
    scale = [[mpmath.fsum(abs(sym[i][j] * z[j][k]) for j in range(n)) for k in range(d)] for i in range(n)]
    return losses, grad, scale


def _tensor(values):
    return torch.tensor(
        [[float(v) for v in row] if isinstance(row, list) else float(row) for row in values], dtype=D
    )


def _value_error(got, exact):
    """max_i |got_i - exact_i| / max(|exact_i|, tiny), tiny the smallest normal number of got's dtype
    (a loss that underflows, e^-200 in float32, is then no error, and a subnormal one, SigLIP's
    4 e^-100 in float32, is measured by its absolute error over tiny: 6.9e-7 for its 6 subnormal ulps)."""
    tiny = torch.finfo(got.dtype).tiny
    return ((got.double() - exact).abs() / exact.abs().clamp_min(tiny)).max().item()


def _grad_error(got, exact, scale=None):
    """max over entries of |got - exact| / max(largest |exact| of the entry's row, tiny): a gradient
    row (softmax minus one-hot) holds entries near 0 beside entries near 1. With ``scale`` (a sum's
    term magnitudes), relative to the row's largest scale instead."""
    tiny = torch.finfo(got.dtype).tiny
    ref = (exact if scale is None else scale).abs().amax(-1, keepdim=True).clamp_min(tiny)
    return ((got.double() - exact).abs() / ref).max().item()


def _dyadic(x):
    """Multiples of 1/64: exact in float32, and so are their differences (the log-softmax's known
    limit, the rounding of x_k - x_j, is then not in play)."""
    return (x * 64).round() / 64


def _logit_cases():
    """(name, S): 4 x 4 logit matrices, row i the anchor, column i its positive."""
    g = torch.Generator().manual_seed(0)
    yield "moderate", _dyadic(torch.empty(4, 4, dtype=D).uniform_(-4, 4, generator=g))
    yield "wide", _dyadic(torch.empty(4, 4, dtype=D).uniform_(-100, 100, generator=g))
    # +-100: cosines +-1 at tau = 0.01. Row 0 confident (positive 100, the rest -100), row 1 the
    # positive the worst (-100 against 100), row 2 confident by a gap of 20, row 3 a gap of 90
    # (e^-90 is subnormal in float32)
    yield (
        "extreme",
        t([[100, -100, -100, -100], [100, -100, 100, 99.5], [-20, 80, 60, 7.25], [0, -90, -90, 0]]),
    )
    # ties: a row of equal logits, a positive tied with a negative, two tied negatives
    yield "ties", t([[3, 3, 3, 3], [5, 5, -1, 0], [2, 7, 7, 7], [-100, -100, 100, 100]])


LOGITS = list(_logit_cases())
DTYPES = [torch.float32, torch.float64]
DTYPE_IDS = ["float32", "float64"]


def _info_nce_in_batch_oracle(s):
    n = len(s)
    return _softmax_oracle(s, [range(n)] * n, [[i] for i in range(n)])


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", LOGITS, ids=[c[0] for c in LOGITS])
def test_info_nce_matches_the_oracle_given_the_logits(case, dtype):
    # queries e_i, keys S^T, no normalization: q_i . k_j = S[i, j], a dot product with a one-hot row
    _, s = case
    n = s.shape[0]
    q, k = leaves(torch.eye(n, dtype=dtype), s.T.contiguous().to(dtype))
    out = lossref.info_nce(q, k, temperature=1.0, reduction="none", normalize=False)
    (gk,) = torch.autograd.grad(out.sum(), k)
    with mpmath.workdps(DIGITS):
        losses, grads = _info_nce_in_batch_oracle(_mp(s))
    assert _value_error(out, _tensor(losses)) <= TOL[dtype]
    assert _grad_error(gk.T, _tensor(grads)) <= TOL[dtype]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("mode", ["unpaired", "paired"])
@pytest.mark.parametrize("case", LOGITS, ids=[c[0] for c in LOGITS])
def test_info_nce_with_negatives_matches_the_oracle_given_the_logits(case, mode, dtype):
    # column 0 of S the positives, columns 1.. the negatives' logits. Queries e_i, keys diag(S[:, 0]);
    # unpaired: negative m is S[:, m + 1], so q_i . neg_m = S[i, m + 1]; paired: negative m of query i
    # holds S[i, m + 1] at coordinate i, and junk elsewhere, which q_i does not see (gradient 0)
    _, s = case
    n, m = s.shape[0], s.shape[1] - 1
    key = torch.diag(s[:, 0])
    if mode == "unpaired":
        negatives = s[:, 1:].T.contiguous()
    else:
        negatives = torch.randn(n, m, n, dtype=D, generator=torch.Generator().manual_seed(1))
        negatives[torch.arange(n), :, torch.arange(n)] = s[:, 1:]
    q, k, neg = leaves(torch.eye(n, dtype=dtype), key.to(dtype), negatives.to(dtype))
    out = lossref.info_nce(q, k, neg, 1.0, "none", mode, normalize=False)
    gk, gneg = torch.autograd.grad(out.sum(), [k, neg])
    with mpmath.workdps(DIGITS):
        losses, grads = _softmax_oracle(_mp(s), [range(m + 1)] * n, [[0]] * n)
    grads = _tensor(grads)
    assert _value_error(out, _tensor(losses)) <= TOL[dtype]
    if mode == "unpaired":
        got = torch.cat([gk.diagonal().unsqueeze(1), gneg.T], 1)
    else:
        got = torch.cat([gk.diagonal().unsqueeze(1), gneg[torch.arange(n), :, torch.arange(n)]], 1)
        off = torch.ones(n, m, n, dtype=torch.bool)
        off[torch.arange(n), :, torch.arange(n)] = False
        assert bool((gneg[off] == 0).all())
    assert bool((gk - torch.diag(gk.diagonal()) == 0).all())
    assert _grad_error(got, grads) <= TOL[dtype]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", LOGITS, ids=[c[0] for c in LOGITS])
def test_clip_matches_the_oracle_given_the_logits(case, dtype):
    # images e_i, texts S^T, logit_scale t = 0 (scale e^0 = 1 exactly)
    _, s = case
    n = s.shape[0]
    img, txt, scale = leaves(
        torch.eye(n, dtype=dtype), s.T.contiguous().to(dtype), torch.zeros((), dtype=dtype)
    )
    out = lossref.clip_loss(img, txt, scale, reduction="none", normalize=False)
    gtxt, gscale = torch.autograd.grad(out.sum(), [txt, scale])
    with mpmath.workdps(DIGITS):
        ms = _mp(s)
        rows, grow = _info_nce_in_batch_oracle(ms)
        cols, gcol = _info_nce_in_batch_oracle(_transpose(ms))
        losses = [(r + c) / 2 for r, c in zip(rows, cols, strict=True)]
        gcol = _transpose(gcol)
        grads = [[(a + b) / 2 for a, b in zip(u, v, strict=True)] for u, v in zip(grow, gcol, strict=True)]
        # d/dt at t = 0 of the logits e^t S is S: the sum of S * dL/dS, and the scale of its terms
        dscale = mpmath.fsum(
            g * x for gr, sr in zip(grads, ms, strict=True) for g, x in zip(gr, sr, strict=True)
        )
        dscale_terms = mpmath.fsum(
            abs(g * x) for gr, sr in zip(grads, ms, strict=True) for g, x in zip(gr, sr, strict=True)
        )
    assert _value_error(out, _tensor(losses)) <= TOL[dtype]
    assert _grad_error(gtxt.T, _tensor(grads)) <= TOL[dtype]
    assert abs(gscale.item() - float(dscale)) <= TOL[dtype] * max(float(dscale_terms), 1e-300)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", LOGITS, ids=[c[0] for c in LOGITS])
def test_siglip_matches_the_oracle_given_the_logits(case, dtype):
    # images e_i, texts S^T, t' = 0 (scale 1), b = 0: the pair logits are S
    _, s = case
    n = s.shape[0]
    img, txt, scale, bias = leaves(
        torch.eye(n, dtype=dtype),
        s.T.contiguous().to(dtype),
        torch.zeros((), dtype=dtype),
        torch.zeros((), dtype=dtype),
    )
    out = lossref.siglip_loss(img, txt, scale, bias, reduction="none", normalize=False)
    gtxt, gbias = torch.autograd.grad(out.sum(), [txt, bias])
    with mpmath.workdps(DIGITS):
        ms = _mp(s)
        sign = [[1 if i == j else -1 for j in range(n)] for i in range(n)]
        # -log sigma(z x) = log(1 + e^(-z x)); its derivative in x is -z / (1 + e^(z x))
        losses = [
            mpmath.fsum(mpmath.log1p(mpmath.exp(-z * x)) for z, x in zip(zr, r, strict=True))
            for zr, r in zip(sign, ms, strict=True)
        ]
        grads = [
            [-z / (1 + mpmath.exp(z * x)) for z, x in zip(zr, r, strict=True)]
            for zr, r in zip(sign, ms, strict=True)
        ]
        dbias = mpmath.fsum(g for row in grads for g in row)
        dbias_terms = mpmath.fsum(abs(g) for row in grads for g in row)
    assert _value_error(out, _tensor(losses)) <= TOL[dtype]
    assert _grad_error(gtxt.T, _tensor(grads)) <= TOL[dtype]
    assert abs(gbias.item() - float(dbias)) <= TOL[dtype] * max(float(dbias_terms), 1e-300)


def _gram_cases():
    """(name, z, labels): integer embeddings, so that every dot product, up to +-100, is exact in
    float32; rows 0..2 the first view, 3..5 the second (NT-Xent pairs i and i + 3)."""
    g = torch.Generator().manual_seed(2)
    yield "random", torch.randint(-3, 4, (6, 4), generator=g).to(D), torch.tensor([0, 1, 2, 0, 1, 2])
    five = t([5.0, 5.0, 5.0, 5.0])
    # pair 0 identical (logit 100) and far from the rest (-100); pair 1 tied with pair 2's views;
    # pair 2's views opposite (positive -100), with anchor 2 at 100 from anchor 0
    z = torch.stack([five, t([1, 0, 0, 1]), five, five, t([1, 0, 0, 1]), -five])
    yield "extreme", z, torch.tensor([0, 1, 2, 0, 1, 1])
    z = torch.stack([five, -five, t([5, 5, -5, -5]), t([5, -5, 5, -5]), t([0, 0, 0, 0]), -five])
    yield "singletons", z, torch.tensor([7, 7, 3, 4, 5, 7])


GRAMS = list(_gram_cases())


def _views(n):
    return [[j for j in range(2 * n) if j != i] for i in range(2 * n)], [
        [(i + n) % (2 * n)] for i in range(2 * n)
    ]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", GRAMS[:2], ids=[c[0] for c in GRAMS[:2]])
def test_nt_xent_matches_the_oracle_given_the_logits(case, dtype):
    _, z, _ = case
    n = z.shape[0] // 2
    x1, x2 = leaves(z[:n].to(dtype), z[n:].to(dtype))
    out = lossref.nt_xent(x1, x2, 1.0, "none", normalize=False)
    grad = torch.cat(torch.autograd.grad(out.sum(), [x1, x2]))
    with mpmath.workdps(DIGITS):
        cand, pos = _views(n)
        losses, gz, scale = _gram_oracle(_mp(z), cand, pos)
        # each output is the mean of the two views' anchors: the gradient of the sum halves
        per_sample = [(losses[i] + losses[i + n]) / 2 for i in range(n)]
        gz = [[v / 2 for v in row] for row in gz]
        scale = [[v / 2 for v in row] for row in scale]
    assert _value_error(out, _tensor(per_sample)) <= TOL[dtype]
    assert _grad_error(grad, _tensor(gz), _tensor(scale)) <= TOL[dtype]


def _label_sets(labels):
    y = labels.tolist()
    cand = [[j for j in range(len(y)) if j != i] for i in range(len(y))]
    pos = [[j for j in range(len(y)) if j != i and y[j] == y[i]] for i in range(len(y))]
    return cand, pos


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", GRAMS, ids=[c[0] for c in GRAMS])
def test_supervised_contrastive_matches_the_oracle_given_the_logits(case, dtype):
    _, z, labels = case
    (x,) = leaves(z.to(dtype))
    out = lossref.supervised_contrastive(x, labels, 1.0, "none", normalize=False)
    (grad,) = torch.autograd.grad(out.sum(), x)
    with mpmath.workdps(DIGITS):
        losses, gz, scale = _gram_oracle(_mp(z), *_label_sets(labels))
    assert _value_error(out, _tensor(losses)) <= TOL[dtype]
    assert _grad_error(grad, _tensor(gz), _tensor(scale)) <= TOL[dtype]


TEMPERATURES = [0.01, 0.07, 0.5]


@pytest.mark.parametrize("tau", TEMPERATURES)
def test_the_division_by_the_temperature_float64(tau):
    """The loss divides the similarities by tau itself (logits up to 100 at 0.01); the oracle divides
    the exact similarities by the exact binary value of tau."""
    g = torch.Generator().manual_seed(3)
    s = torch.empty(4, 4, dtype=D).uniform_(-1, 1, generator=g)
    s[0] = t([1.0, -1.0, -1.0, 0.5])  # cosines +-1: logits +-100 at tau = 0.01
    q, k = leaves(torch.eye(4, dtype=D), s.T.contiguous())
    out = lossref.info_nce(q, k, temperature=tau, reduction="none", normalize=False)
    (gk,) = torch.autograd.grad(out.sum(), k)
    # integer embeddings / 16: Gram entries in [-100/256, 100/256], exact
    _, z, labels = GRAMS[2]
    z = z / 16
    (x,) = leaves(z)
    sup = lossref.supervised_contrastive(x, labels, tau, "none", normalize=False)
    (gx,) = torch.autograd.grad(sup.sum(), x)
    (x1, x2) = leaves(z[:3], z[3:])
    ntx = lossref.nt_xent(x1, x2, tau, "none", normalize=False)
    gntx = torch.cat(torch.autograd.grad(ntx.sum(), [x1, x2]))
    with mpmath.workdps(DIGITS):
        mt = mpmath.mpf(tau)
        # d/dS of f(S / tau) is f'(S / tau) / tau
        losses, grads = _info_nce_in_batch_oracle([[v / mt for v in row] for row in _mp(s)])
        grads = [[v / mt for v in row] for row in grads]
        zs = [
            [v / mpmath.sqrt(mt) for v in row] for row in _mp(z)
        ]  # (z / sqrt tau)(z / sqrt tau)^T = G / tau
        sup_losses, sup_g, sup_scale = _gram_oracle(zs, *_label_sets(labels))
        ntx_losses, ntx_g, ntx_scale = _gram_oracle(zs, *_views(3))
        # d/dz f((z / sqrt tau)(...)^T) = (grad at z / sqrt tau) / sqrt tau
        root = mpmath.sqrt(mt)
        sup_g, sup_scale, ntx_g, ntx_scale = (
            [[v / root for v in row] for row in m] for m in (sup_g, sup_scale, ntx_g, ntx_scale)
        )
        ntx_losses = [(ntx_losses[i] + ntx_losses[i + 3]) / 2 for i in range(3)]
        ntx_g = [[v / 2 for v in row] for row in ntx_g]
        ntx_scale = [[v / 2 for v in row] for row in ntx_scale]
    assert _value_error(out, _tensor(losses)) <= 1e-13
    assert _grad_error(gk.T, _tensor(grads)) <= 1e-13
    assert _value_error(sup, _tensor(sup_losses)) <= 1e-13
    assert _grad_error(gx, _tensor(sup_g), _tensor(sup_scale)) <= 1e-13
    assert _value_error(ntx, _tensor(ntx_losses)) <= 1e-13
    assert _grad_error(gntx, _tensor(ntx_g), _tensor(ntx_scale)) <= 1e-13


@pytest.mark.parametrize("scale", [CLIP_MAX_LOGIT_SCALE, math.log(1 / 0.07), math.log(2.0)])
def test_clip_and_siglip_logit_scale_grid_float64(scale):
    """The loss exponentiates the log-scale itself; the oracle takes e^t of the same binary t."""
    g = torch.Generator().manual_seed(4)
    s = torch.empty(4, 4, dtype=D).uniform_(-1, 1, generator=g)
    s[1] = t([1.0, -1.0, 1.0, 0.25])
    img, txt = leaves(torch.eye(4, dtype=D), s.T.contiguous())
    clip = lossref.clip_loss(img, txt, scale, reduction="none", normalize=False)
    (gclip,) = torch.autograd.grad(clip.sum(), txt)
    sig = lossref.siglip_loss(img, txt, scale, -10.0, reduction="none", normalize=False)
    (gsig,) = torch.autograd.grad(sig.sum(), txt)
    with mpmath.workdps(DIGITS):
        e = mpmath.exp(mpmath.mpf(scale))
        ms = [[e * v for v in row] for row in _mp(s)]
        rows, grow = _info_nce_in_batch_oracle(ms)
        cols, gcol = _info_nce_in_batch_oracle(_transpose(ms))
        gcol = _transpose(gcol)
        clip_losses = [(r + c) / 2 for r, c in zip(rows, cols, strict=True)]
        clip_g = [
            [e * (a + b) / 2 for a, b in zip(u, v, strict=True)] for u, v in zip(grow, gcol, strict=True)
        ]
        sign = [[1 if i == j else -1 for j in range(4)] for i in range(4)]
        sig_losses = [
            mpmath.fsum(mpmath.log1p(mpmath.exp(-z * (x - 10))) for z, x in zip(zr, r, strict=True))
            for zr, r in zip(sign, ms, strict=True)
        ]
        sig_g = [
            [-z * e / (1 + mpmath.exp(z * (x - 10))) for z, x in zip(zr, r, strict=True)]
            for zr, r in zip(sign, ms, strict=True)
        ]
    assert _value_error(clip, _tensor(clip_losses)) <= 1e-13
    assert _grad_error(gclip.T, _tensor(clip_g)) <= 1e-13
    assert _value_error(sig, _tensor(sig_losses)) <= 1e-13
    assert _grad_error(gsig.T, _tensor(sig_g)) <= 1e-13


# -- identities with torch and the published code ------------------------------------------------------


def _batch(n=6, d=5, seed=5, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, d, dtype=D, generator=g) * scale for _ in range(3)]


def test_info_nce_is_cross_entropy_of_the_similarity_logits():
    q, k, _ = _batch()
    qn, kn = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
    for tau in (0.07, 0.5):
        expected = F.cross_entropy(qn @ kn.T / tau, torch.arange(6), reduction="none")
        got = lossref.info_nce(q, k, temperature=tau, reduction="none")
        torch.testing.assert_close(got, expected, rtol=1e-13, atol=0)


def test_info_nce_with_negatives_is_moco_cross_entropy():
    # MoCo / info-nce-pytorch: logits cat(l_pos, l_neg) / T, labels zeros
    q, k, negatives = _batch()
    qn, kn, nn_ = (F.normalize(x, dim=-1) for x in (q, k, negatives))
    pos = (qn * kn).sum(-1, keepdim=True)
    zeros = torch.zeros(6, dtype=torch.long)
    expected = F.cross_entropy(torch.cat([pos, qn @ nn_.T], 1) / 0.07, zeros, reduction="none")
    got = lossref.info_nce(q, k, negatives, 0.07, "none")
    torch.testing.assert_close(got, expected, rtol=1e-13, atol=0)
    paired = torch.randn(6, 4, 5, dtype=D, generator=torch.Generator().manual_seed(6))
    pn = F.normalize(paired, dim=-1)
    expected = F.cross_entropy(torch.cat([pos, torch.einsum("nd,nmd->nm", qn, pn)], 1) / 0.2, zeros)
    got = lossref.info_nce(q, k, paired, 0.2, negative_mode="paired")
    torch.testing.assert_close(got, expected, rtol=1e-13, atol=0)


def test_paired_negatives_shared_by_every_query_equal_unpaired():
    q, k, negatives = _batch()
    shared = negatives[:4]
    unpaired = lossref.info_nce(q, k, shared, 0.1, "none")
    paired = lossref.info_nce(q, k, shared.expand(6, 4, 5), 0.1, "none", "paired")
    torch.testing.assert_close(paired, unpaired, rtol=1e-14, atol=0)


def test_supervised_contrastive_with_one_positive_each_is_nt_xent():
    z1, z2, _ = _batch()
    labels = torch.cat([torch.arange(6), torch.arange(6)])
    sup = lossref.supervised_contrastive(torch.cat([z1, z2]), labels, 0.2, "none")
    ntx = lossref.nt_xent(z1, z2, 0.2, "none")
    torch.testing.assert_close(ntx, (sup[:6] + sup[6:]) / 2, rtol=1e-14, atol=0)
    mean = lossref.supervised_contrastive(torch.cat([z1, z2]), labels, 0.2)
    torch.testing.assert_close(lossref.nt_xent(z1, z2, 0.2), mean, rtol=1e-14, atol=0)


@pytest.mark.parametrize("tau", [0.07, 0.5])
def test_nt_xent_equals_pytorch_metric_learning(tau):
    z1, z2, _ = _batch()
    labels = torch.cat([torch.arange(6), torch.arange(6)])
    expected = pml.NTXentLoss(temperature=tau)(torch.cat([z1, z2]), labels)
    torch.testing.assert_close(lossref.nt_xent(z1, z2, tau), expected, rtol=1e-13, atol=0)


def _simclr_code(h1, h2, tau):
    """google-research/simclr tf2/objective.py: l2-normalize, self-similarity masked by subtracting
    LARGE_NUM, logits [ab, aa] for view a and [ba, bb] for b, the positive column i of the ab block,
    loss = reduce_mean(loss_a + loss_b) (the sum of the two views' means)."""
    large_num = 1e9
    h1, h2 = F.normalize(h1, dim=-1), F.normalize(h2, dim=-1)
    n = h1.shape[0]
    masks = torch.eye(n, dtype=h1.dtype)
    aa = h1 @ h1.T / tau - masks * large_num
    bb = h2 @ h2.T / tau - masks * large_num
    ab, ba = h1 @ h2.T / tau, h2 @ h1.T / tau
    labels = torch.arange(n)
    loss_a = F.cross_entropy(torch.cat([ab, aa], 1), labels, reduction="none")
    loss_b = F.cross_entropy(torch.cat([ba, bb], 1), labels, reduction="none")
    return (loss_a + loss_b).mean()


@pytest.mark.parametrize("tau", [0.1, 0.5])
def test_nt_xent_is_half_of_simclrs_code(tau):
    z1, z2, _ = _batch()
    torch.testing.assert_close(
        2 * lossref.nt_xent(z1, z2, tau), _simclr_code(z1, z2, tau), rtol=1e-13, atol=0
    )


def _supcontrast_head(features, labels, temperature, base_temperature):
    """HobbitLong/SupContrast losses.py at HEAD (contrast_mode='all'), features (bsz, n_views, d) of
    unit vectors: logits minus the detached row max, the self entry masked out of the denominator,
    anchors without a positive get mask_pos_pairs = 1 (loss 0), the loss scaled by
    temperature / base_temperature and averaged over every anchor."""
    bsz, views, _ = features.shape
    mask = (labels[:, None] == labels[None, :]).to(features.dtype)
    contrast = torch.cat(torch.unbind(features, 1), 0)
    dot = contrast @ contrast.T / temperature
    logits = dot - dot.max(1, keepdim=True)[0].detach()
    mask = mask.repeat(views, views)
    logits_mask = 1 - torch.eye(bsz * views, dtype=features.dtype)
    mask = mask * logits_mask
    log_prob = logits - torch.log((torch.exp(logits) * logits_mask).sum(1, keepdim=True))
    mask_pos_pairs = mask.sum(1)
    mask_pos_pairs = torch.where(mask_pos_pairs < 1e-6, 1, mask_pos_pairs)
    mean_log_prob_pos = (mask * log_prob).sum(1) / mask_pos_pairs
    loss = -(temperature / base_temperature) * mean_log_prob_pos
    return loss.view(views, bsz).mean()


def test_supervised_contrastive_equals_pml_when_every_anchor_has_a_positive():
    z, _, _ = _batch(n=8)
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 2, 2])
    for tau in (0.07, 0.5):
        expected = pml.SupConLoss(temperature=tau)(z, labels)
        torch.testing.assert_close(
            lossref.supervised_contrastive(z, labels, tau), expected, rtol=1e-13, atol=0
        )


def test_supervised_contrastive_equals_supcontrast_head_with_anchors_without_positive():
    g = torch.Generator().manual_seed(7)
    features = F.normalize(torch.randn(5, 2, 6, dtype=D, generator=g), dim=-1)
    labels = torch.tensor([0, 1, 1, 2, 3])
    flat, flat_labels = torch.cat(torch.unbind(features, 1)), labels.repeat(2)
    # with one view, labels 0, 2 and 3 have no positive: counted as 0 in the mean
    one = features[:, :1]
    ours = lossref.supervised_contrastive(one[:, 0], labels, 0.1)
    torch.testing.assert_close(ours, _supcontrast_head(one, labels, 0.1, 0.1), rtol=1e-13, atol=0)
    # PML leaves them out of its mean instead: a factor N / (anchors with a positive) = 5 / 2
    torch.testing.assert_close(
        5 / 2 * ours, pml.SupConLoss(temperature=0.1)(one[:, 0], labels), rtol=1e-13, atol=0
    )
    # two views: every anchor has a positive; HEAD's factor tau / base_tau (0.5 / 0.07) is not in lossref
    ours = lossref.supervised_contrastive(flat, flat_labels, 0.5)
    torch.testing.assert_close(
        0.5 / 0.07 * ours, _supcontrast_head(features, labels, 0.5, 0.07), rtol=1e-13, atol=0
    )


def test_clip_equals_open_clip_formula():
    img, txt, _ = _batch()
    t_ = 2.5  # the learned log-scale; open_clip's loss receives exp(t)
    x, y = F.normalize(img, dim=-1), F.normalize(txt, dim=-1)
    logits_per_image = math.exp(t_) * x @ y.T
    labels = torch.arange(6)
    expected = (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_image.T, labels)) / 2
    torch.testing.assert_close(lossref.clip_loss(img, txt, t_), expected, rtol=1e-13, atol=0)


def test_siglip_equals_open_clip_and_big_vision_formula():
    img, txt, _ = _batch()
    x, y = F.normalize(img, dim=-1), F.normalize(txt, dim=-1)
    for scale, bias in ((math.log(10.0), -10.0), (0.3, 2.0)):
        logits = math.exp(scale) * x @ y.T + bias
        labels = 2 * torch.eye(6, dtype=D) - 1
        expected = -F.logsigmoid(labels * logits).sum() / 6
        torch.testing.assert_close(lossref.siglip_loss(img, txt, scale, bias), expected, rtol=1e-13, atol=0)


# -- stability -------------------------------------------------------------------------------------------


def _all_losses(a, b, labels, tau, **kw):
    """Each loss on two batches a, b (N, D); CLIP and SigLIP with the scale 1 / tau."""
    scale = math.log(1 / tau)
    return {
        "info_nce": lossref.info_nce(a, b, temperature=tau, **kw),
        "info_nce_negatives": lossref.info_nce(a, b, a.flip(0), tau, **kw),
        "nt_xent": lossref.nt_xent(a, b, tau, **kw),
        "supervised_contrastive": lossref.supervised_contrastive(torch.cat([a, b]), labels, tau, **kw),
        "clip": lossref.clip_loss(a, b, scale, **kw),
        "siglip": lossref.siglip_loss(a, b, scale, -10.0, **kw),
    }


def _grads(a, b, labels, tau, dtype, **kw):
    """{name: (loss, grad a, grad b)} in ``dtype``."""
    out = {}
    for name in _all_losses(a, b, labels, tau):
        x, y = leaves(a.to(dtype), b.to(dtype))
        loss = _all_losses(x, y, labels, tau, **kw)[name]
        out[name] = (loss, *torch.autograd.grad(loss.sum(), [x, y]))
    return out


def test_cosines_of_plus_minus_one_at_tau_001_in_float32():
    """Logits +-100: the float32 losses and gradients are finite and within 1e-5 of float64's
    (value relative to max(|float64|, tiny), gradients relative to the largest entry of the tensor)."""
    e1, e2 = t([1.0, 0.0]), t([0.0, 1.0])
    a = torch.stack([e1, -e1, e1, e2])
    b = torch.stack([e1, e1, -e1, e2]) * 2.0
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    low, high = (
        _grads(a, b, labels, 0.01, torch.float32, reduction="none"),
        _grads(a, b, labels, 0.01, D, reduction="none"),
    )
    for name in low:
        (l32, *g32), (l64, *g64) = low[name], high[name]
        assert torch.isfinite(l32).all() and all(torch.isfinite(g).all() for g in g32), name
        assert _value_error(l32, l64.detach()) <= 1e-5, name
        for g, h in zip(g32, g64, strict=True):
            assert (g.double() - h).abs().max().item() <= 1e-5 * max(h.abs().max().item(), 1e-30), name


def test_zero_embedding_gives_cosine_zero_and_a_finite_loss():
    # F.normalize divides by max(|z|, 1e-12): a zero query has cosine 0 with every key, loss log N
    q, k, _ = _batch(n=4)
    q[1] = 0.0
    out = lossref.info_nce(q, k, temperature=0.1, reduction="none")
    assert out[1].item() == pytest.approx(math.log(4), rel=1e-14)
    x, y = leaves(q, k)
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    for name, loss in _all_losses(x, y, labels, 0.1).items():
        grads = torch.autograd.grad(loss, [x, y])
        assert torch.isfinite(loss) and all(torch.isfinite(g).all() for g in grads), name


def test_anchors_without_a_positive_have_loss_and_gradient_zero():
    z, _, _ = _batch(n=6)
    labels = torch.tensor([0, 0, 1, 2, 2, 3])  # anchors 2 and 5 have no positive
    (x,) = leaves(z)
    out = lossref.supervised_contrastive(x, labels, 0.1, "none")
    assert out[2].item() == 0.0 and out[5].item() == 0.0
    assert bool((out[[0, 1, 3, 4]] > 0).all())
    for i in (2, 5):
        (g,) = torch.autograd.grad(out[i], x, retain_graph=True)
        assert bool((g == 0).all())
    # they count in the mean (SupContrast's convention), as zeros
    mean = lossref.supervised_contrastive(z, labels, 0.1)
    torch.testing.assert_close(mean, out.sum() / 6, rtol=1e-15, atol=0)


def test_no_anchor_with_a_positive_gives_zero_not_nan():
    (x,) = leaves(_batch(n=5)[0])
    for dtype in DTYPES:
        (y,) = leaves(x.to(dtype))
        loss = lossref.supervised_contrastive(y, torch.arange(5), 0.01)
        (g,) = torch.autograd.grad(loss, y)
        assert loss.item() == 0.0
        assert bool((g == 0).all())


def test_nan_in_an_embedding_gives_nan_out():
    a, b, _ = _batch(n=4)
    a[2, 1] = math.nan
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    for name, loss in _all_losses(a, b, labels, 0.1).items():
        assert torch.isnan(loss), name


# -- conditioning from float32 embeddings ----------------------------------------------------------------


def _float32_error(tau):
    """Largest relative error, over the losses and their per-anchor values, of float32 embeddings
    against float64 from the same (float32-rounded) embeddings."""
    g = torch.Generator().manual_seed(8)
    a = torch.randn(16, 32, generator=g).double()
    b = (a + 0.5 * torch.randn(16, 32, generator=g)).float().double()
    labels = torch.cat([torch.arange(16) % 5, torch.arange(16) % 5])
    errors = {}
    for kw in ({"reduction": "none"}, {"reduction": "mean"}):
        low = _all_losses(a.float(), b.float(), labels, tau, **kw)
        high = _all_losses(a, b, labels, tau, **kw)
        for name, value in low.items():
            error = ((value.double() - high[name]).abs() / high[name].abs().clamp_min(1e-30)).max().item()
            errors[name] = max(errors.get(name, 0.0), error)
    return errors


def test_float32_from_embeddings_is_within_1e_5_at_tau_01():
    """The module docstring's claim: the dot products' rounding (~1e-7) times 1 / tau gives a few 1e-6
    of relative error at tau = 0.1 (measured: at most 1.6e-6 here, NT-Xent; 1.5e-6 InfoNCE, 1.3e-6
    CLIP, 0.7e-6 SigLIP, 0.3e-6 supervised contrastive)."""
    errors = _float32_error(0.1)
    assert max(errors.values()) <= 1e-5, errors


@pytest.mark.parametrize("tau, bound", [(0.1, 1e-5), (0.01, 1e-4)])
def test_nt_xent_of_float32_embeddings_is_as_the_module_docstring_says(tau, bound):
    """The module docstring's figures: NT-Xent of 256 pairs of 128-D embeddings, computed from their
    float32 rounding, against float64 from the float64 embeddings (measured: at most 5.5e-6 relative
    at tau = 0.1 and 5.2e-5 at tau = 0.01, per sample)."""
    g = torch.Generator().manual_seed(0)
    worst = 0.0
    for noise in (0.5, 0.05):
        x = torch.randn(256, 128, generator=g, dtype=D)
        a, b = (x + noise * torch.randn(x.shape, generator=g, dtype=D) for _ in range(2))
        exact = lossref.nt_xent(a, b, tau, reduction="none")
        rounded = lossref.nt_xent(a.float(), b.float(), tau, reduction="none").double()
        worst = max(worst, ((rounded - exact).abs() / exact).max().item())
    assert worst <= bound


# -- CLIP and SigLIP specifics ---------------------------------------------------------------------------


def test_clip_logit_scale_is_clipped_at_ln_100():
    img, txt, _ = _batch()
    at_clip = lossref.clip_loss(img, txt, CLIP_MAX_LOGIT_SCALE)
    (above,) = leaves(t(10.0))
    loss = lossref.clip_loss(img, txt, above)
    assert loss.item() == at_clip.item()
    (grad,) = torch.autograd.grad(loss, above)
    assert grad.item() == 0.0
    # below the clip the scale is learned: a larger scale lowers the loss of matching pairs
    (below,) = leaves(t(1.0))
    (grad,) = torch.autograd.grad(lossref.clip_loss(img, img, below), below)
    assert grad.item() < 0
    # SigLIP's scale is not clipped (big_vision clips nothing)
    s10 = lossref.siglip_loss(img, txt, 10.0, -10.0)
    assert s10.item() != lossref.siglip_loss(img, txt, CLIP_MAX_LOGIT_SCALE, -10.0).item()


def test_modules_initialise_and_learn_their_scales():
    clip, siglip = lossref.ClipLoss(), lossref.SigLipLoss()
    assert clip.logit_scale.item() == torch.tensor(math.log(1 / 0.07)).item()
    assert siglip.logit_scale.item() == torch.tensor(math.log(10.0)).item()
    assert siglip.logit_bias.item() == -10.0
    assert {n for n, _ in clip.named_parameters()} == {"logit_scale"}
    assert {n for n, _ in siglip.named_parameters()} == {"logit_scale", "logit_bias"}
    img, txt, _ = (x.float() for x in _batch())
    clip(img, txt).backward()
    siglip(img, txt).backward()
    for p in (clip.logit_scale, siglip.logit_scale, siglip.logit_bias):
        assert p.grad is not None and p.grad.item() != 0.0
    # the module is the function with its parameters
    torch.testing.assert_close(
        lossref.ClipLoss(reduction="none")(img, txt),
        lossref.clip_loss(img, txt, math.log(1 / 0.07), reduction="none"),
        rtol=1e-6,
        atol=0,
    )


def test_python_float_logit_scale_equals_a_tensor():
    img, txt, _ = _batch()
    for scale, bias in ((2.5, -3.0), (-1.0, 0.5)):
        assert lossref.clip_loss(img, txt, scale).item() == lossref.clip_loss(img, txt, t(scale)).item()
        assert (
            lossref.siglip_loss(img, txt, scale, bias).item()
            == lossref.siglip_loss(img, txt, t(scale), t(bias)).item()
        )


# -- gradcheck of the options the generic tests do not call --------------------------------------------


def test_gradcheck_info_nce_with_negatives():
    q, k, negatives = leaves(*_batch(n=4, d=3, scale=1.0))
    paired = leaves(torch.randn(4, 3, 3, dtype=D, generator=torch.Generator().manual_seed(9)))[0]
    assert torch.autograd.gradcheck(lambda a, b, c: lossref.info_nce(a, b, c, 0.3, "none"), (q, k, negatives))
    assert torch.autograd.gradcheck(
        lambda a, b, c: lossref.info_nce(a, b, c, 0.3, "none", "paired"), (q, k, paired)
    )


def test_gradcheck_supervised_contrastive_with_anchors_without_positive():
    (z,) = leaves(_batch(n=6, d=3, scale=1.0)[0])
    labels = torch.tensor([0, 0, 1, 2, 2, 3])
    assert torch.autograd.gradcheck(lambda x: lossref.supervised_contrastive(x, labels, 0.2, "none"), (z,))


def test_gradcheck_clip_and_siglip_in_the_scale_and_bias():
    img, txt, _ = leaves(*_batch(n=4, d=3, scale=1.0))
    scale, bias = leaves(t(1.0), t(-2.0))
    assert torch.autograd.gradcheck(lambda a, b, s: lossref.clip_loss(a, b, s, "none"), (img, txt, scale))
    assert torch.autograd.gradcheck(
        lambda a, b, s, c: lossref.siglip_loss(a, b, s, c, "none"), (img, txt, scale, bias)
    )


# -- bad input ---------------------------------------------------------------------------------------------


def test_bad_input_is_a_clear_error():
    x, y = torch.randn(4, 3), torch.randn(4, 3)
    labels = torch.tensor([0, 0, 1, 1])
    cases = [
        (
            lambda: lossref.info_nce(x, torch.randn(5, 3)),
            ValueError,
            r"positive_key must have the shape of query",
        ),
        (
            lambda: lossref.info_nce(torch.randn(4), torch.randn(4)),
            ValueError,
            r"query must have shape \(N, D\)",
        ),
        (lambda: lossref.info_nce(x, y.double()), TypeError, "positive_key has dtype torch.float64"),
        (lambda: lossref.info_nce(x.long(), y.long()), TypeError, "query must have a floating-point dtype"),
        (lambda: lossref.info_nce(x, y, temperature=0.0), ValueError, "temperature must be greater than 0"),
        (lambda: lossref.info_nce(x, y, temperature=-1.0), ValueError, "temperature must be greater than 0"),
        (lambda: lossref.info_nce(x, y, temperature="0.1"), TypeError, "temperature must be a real number"),
        (
            lambda: lossref.info_nce(x, y, temperature=t(0.1)),
            TypeError,
            r"temperature must be a real .*item\(\)",
        ),
        (lambda: lossref.info_nce(x, y, temperature=math.inf), ValueError, "temperature must be a finite"),
        (lambda: lossref.info_nce(x, y, negative_mode="shared"), ValueError, "negative_mode must be one of"),
        (lambda: lossref.info_nce(x, y, reduction="batchmean"), ValueError, "reduction must be one of"),
        (lambda: lossref.info_nce(x, y, normalize=1), TypeError, "normalize must be a bool, got int"),
        (
            lambda: lossref.info_nce(x, y, torch.randn(4, 5, 3)),
            ValueError,
            r"negative_keys must have shape \(M, D\) with negative_mode='unpaired', here \(M, 3\)",
        ),
        (
            lambda: lossref.info_nce(x, y, torch.randn(7, 2)),
            ValueError,
            r"negative_keys must have shape \(M, D\) .* got \(7, 2\)",
        ),
        (
            lambda: lossref.info_nce(x, y, torch.randn(7, 3), negative_mode="paired"),
            ValueError,
            r"negative_keys must have shape \(N, M, D\) with negative_mode='paired', here \(4, M, 3\)",
        ),
        (
            lambda: lossref.info_nce(x, y, torch.randn(5, 7, 3), negative_mode="paired"),
            ValueError,
            r"negative_keys must have shape \(N, M, D\) .* got \(5, 7, 3\)",
        ),
        (lambda: lossref.info_nce(x, y, torch.randn(7, 3).double()), TypeError, "negative_keys has dtype"),
        (lambda: lossref.nt_xent(x, torch.randn(3, 3)), ValueError, "input2 must have the shape of input1"),
        (lambda: lossref.nt_xent(x, y, 0.0), ValueError, "temperature must be greater than 0"),
        (
            lambda: lossref.supervised_contrastive(x, labels.float()),
            TypeError,
            "integer dtype, got torch.float32",
        ),
        (
            lambda: lossref.supervised_contrastive(x, labels.bool()),
            TypeError,
            "integer dtype, got torch.bool",
        ),
        (lambda: lossref.supervised_contrastive(x, labels[:3]), ValueError, r"target must have shape \(4,\)"),
        (
            lambda: lossref.supervised_contrastive(x, labels[None]),
            ValueError,
            r"target must have shape \(4,\)",
        ),
        (lambda: lossref.supervised_contrastive(x, [0, 0, 1, 1]), TypeError, "target must be a torch.Tensor"),
        (
            lambda: lossref.supervised_contrastive(torch.randn(2, 4, 3), labels),
            ValueError,
            r"input must have shape",
        ),
        (
            lambda: lossref.supervised_contrastive(x, labels, normalize=None),
            TypeError,
            "normalize must be a bool",
        ),
        (
            lambda: lossref.clip_loss(x, torch.randn(5, 3), 1.0),
            ValueError,
            "text_features must have the shape of",
        ),
        (lambda: lossref.clip_loss(x, y, t(1.0)), TypeError, "logit_scale has dtype torch.float64"),
        (lambda: lossref.clip_loss(x, y, torch.ones(1)), ValueError, r"logit_scale must be a 0-dim tensor"),
        (lambda: lossref.clip_loss(x, y, "1"), TypeError, "logit_scale must be a real number"),
        (lambda: lossref.clip_loss(x, y, 1.0, normalize="yes"), TypeError, "normalize must be a bool"),
        (
            lambda: lossref.siglip_loss(x, torch.randn(4, 2), 1.0, 0.0),
            ValueError,
            "text_features must have the",
        ),
        (lambda: lossref.siglip_loss(x, y, 1.0, torch.zeros(2)), ValueError, r"logit_bias must be a 0-dim"),
        (lambda: lossref.siglip_loss(x, y, 1.0, torch.zeros((), dtype=D)), TypeError, "logit_bias has dtype"),
        (
            lambda: lossref.siglip_loss(x, y, torch.ones(1, 1), 0.0),
            ValueError,
            r"logit_scale must be a 0-dim",
        ),
        (lambda: lossref.siglip_loss(x, y, 1.0, None), TypeError, "logit_bias must be a real number"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


def test_module_constructor_errors():
    cases = [
        (lambda: lossref.InfoNCELoss(temperature=0.0), ValueError, "temperature must be greater than 0"),
        (lambda: lossref.InfoNCELoss(negative_mode="both"), ValueError, "negative_mode must be one of"),
        (lambda: lossref.InfoNCELoss(normalize=0), TypeError, "normalize must be a bool"),
        (lambda: lossref.NTXentLoss(temperature="hot"), TypeError, "temperature must be a real number"),
        (lambda: lossref.NTXentLoss(reduction="avg"), ValueError, "reduction must be one of"),
        (
            lambda: lossref.SupervisedContrastiveLoss(temperature=-0.1),
            ValueError,
            "temperature must be greater",
        ),
        (lambda: lossref.ClipLoss(reduction="batchmean"), ValueError, "reduction must be one of"),
        (lambda: lossref.ClipLoss(normalize="no"), TypeError, "normalize must be a bool"),
        (lambda: lossref.SigLipLoss(normalize=1.0), TypeError, "normalize must be a bool"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
