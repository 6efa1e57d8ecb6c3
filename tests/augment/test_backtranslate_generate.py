"""The logits processors behind batch-independent generation: Gumbel-max sampling and per-row limits."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from nlp_balance.augment.backtranslate_generate import gumbel_processor, row_limit_processor, seed63  # noqa: E402


def test_sampling_matches_independent_sampler() -> None:
    """The Gumbel-max trick samples the same distribution as torch.multinomial: compare frequencies."""
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0, float("-inf")]])
    draws = 20000
    gens = [torch.Generator().manual_seed(123)]
    proc = gumbel_processor(gens)
    counts = torch.zeros(5)
    for _ in range(draws):
        counts[proc(torch.zeros(1, 1, dtype=torch.long), logits.clone()).argmax()] += 1
    expected = torch.softmax(logits[0], dim=0) * draws
    assert counts[4] == 0
    chi2 = (((counts[:4] - expected[:4]) ** 2) / expected[:4]).sum().item()
    assert chi2 < 16.3  # 3 degrees of freedom, p = 0.001


def test_each_row_draws_from_its_own_generator() -> None:
    """A row's noise depends only on its own seed, not on the rows beside it."""
    scores = torch.zeros(3, 7)

    def noise(seeds: list[int]) -> torch.Tensor:
        proc = gumbel_processor([torch.Generator().manual_seed(s) for s in seeds])
        return proc(torch.zeros(len(seeds), 1, dtype=torch.long), scores[: len(seeds)].clone())

    together = noise([1, 2, 3])
    assert torch.equal(together[1], noise([2])[0]) and torch.equal(together[2], noise([3])[0])
    assert not torch.equal(together[0], together[1])
    with pytest.raises(RuntimeError, match="expected 2 rows of scores, got 3"):
        gumbel_processor([torch.Generator(), torch.Generator()])(torch.zeros(3, 1, dtype=torch.long), scores)


def test_row_limit_forces_eos_per_text_and_its_beams() -> None:
    """Two texts x two beams: the first text (limit 3) ends once 3 tokens are in, the second (5) does not."""
    proc = row_limit_processor([3, 5], eos_token_id=1)
    scores = torch.zeros(4, 4)
    out = proc(torch.zeros(4, 3, dtype=torch.long), scores)
    assert out[:2].argmax(1).tolist() == [1, 1] and torch.isinf(out[:2, [0, 2, 3]]).all()
    assert torch.equal(out[2:], scores[2:])
    assert torch.equal(proc(torch.zeros(4, 2, dtype=torch.long), scores), scores)  # not there yet: untouched


def test_seed63_fits_torch_manual_seed() -> None:
    seeds = [seed63(i, "chunk", j) for i in range(50) for j in range(3)]
    assert all(0 <= s < 2**63 for s in seeds) and len(set(seeds)) == len(seeds)
    torch.Generator().manual_seed(max(seeds))
