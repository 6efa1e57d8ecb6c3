"""A class_weights list of the wrong length, through `nlp-balance train`: exit 2 before any training step."""

from __future__ import annotations

from nlp_balance.cli.main import main


def test_class_weights_of_the_wrong_length_fail_before_training(tmp_path, capsys, tiny_bert_dir, shared_data):
    """Only the data knows the class count: the trainer rejects the list before any step is taken."""
    recipe = tmp_path / "w.yaml"
    recipe.write_text("\n".join([
        "name: w", "seed: 1", "dataset:", f"  source: {shared_data / 'sms_spam'}", "  max_train_samples: 60",
        "model:", f"  name_or_path: {tiny_bert_dir}", "  max_length: 16",
        "training: {class_weights: [1.0, 2.0, 3.0], num_train_epochs: 1}",
        "output:", f"  dir: {tmp_path / 'run'}",
    ]) + "\n", encoding="utf-8")
    code = main(["train", str(recipe)])
    err = capsys.readouterr().err
    assert code == 2
    assert "training.class_weights has 3 entries but the data has 2 classes ['ham', 'spam']" in err
    assert not (tmp_path / "run" / "metrics.json").exists()
