from nas.search import FrontPruner, History

P = FrontPruner(margin=0.02, min_dominators=2, min_history=3, warmup_epochs=1)


def _hist(cost, *mious):
    return History((cost,), tuple(mious))


def test_cheap_candidate_is_not_pruned_by_expensive_ones():
    history = [_hist(4.0, 0.3, 0.5, 0.6)] * 5  # expensive and much better
    assert P.should_prune(2, 0.2, (1.0,), history, last_epoch=4) is None


def test_dominated_candidate_is_pruned_with_a_reason():
    history = [_hist(1.0, 0.3, 0.5), _hist(2.0, 0.3, 0.45), _hist(5.0, 0.3, 0.1)]
    reason = P.should_prune(2, 0.2, (3.0,), history, last_epoch=4)
    assert reason is not None and "2 earlier trials" in reason and "0.500" in reason


def test_no_pruning_in_warmup_at_the_last_epoch_or_with_little_history():
    history = [_hist(1.0, 0.5, 0.5, 0.5)] * 5
    assert P.should_prune(1, 0.0, (3.0,), history, last_epoch=4) is None  # warm-up
    assert P.should_prune(4, 0.0, (3.0,), history, last_epoch=4) is None  # last epoch
    assert P.should_prune(2, 0.0, (3.0,), history[:2], last_epoch=4) is None  # too few


def test_margin_and_count_are_respected():
    history = [_hist(1.0, 0.3, 0.21), _hist(1.0, 0.3, 0.21), _hist(1.0, 0.3, 0.6)]
    assert P.should_prune(2, 0.2, (3.0,), history, last_epoch=4) is None  # 1 clear dominator
    history[1] = _hist(1.0, 0.3, 0.3)
    assert P.should_prune(2, 0.2, (3.0,), history, last_epoch=4) is not None


def test_every_cost_must_be_lower_or_equal():
    h = [History((1.0, 9.0), (0.5, 0.5))] * 5  # cheaper FLOPs, more params
    assert P.should_prune(2, 0.1, (2.0, 3.0), h, last_epoch=4) is None


def test_a_candidate_at_the_trivial_score_is_not_judged():
    history = [_hist(1.0, 0.3, 0.5)] * 5  # cheaper and far ahead
    assert P.should_prune(2, 0.11, (3.0,), history, last_epoch=4, trivial=0.11) is None
    assert P.should_prune(2, 0.115, (3.0,), history, last_epoch=4, trivial=0.11) is None
    reason = P.should_prune(2, 0.13, (3.0,), history, last_epoch=4, trivial=0.11)
    assert reason is not None  # once it has left the constant prediction it is judged
