"""Share a balanced dataset or a fine-tuned model on the Hugging Face Hub, with the card that says how it was made.

Uploads go through the real ``datasets`` / ``huggingface_hub`` clients (``DatasetDict.push_to_hub``,
``HfApi.upload_folder``); the cards come from :mod:`.hub_cards`. The token, when not given, comes
from the environment (``HF_TOKEN``) as for any ``huggingface_hub`` call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from huggingface_hub import DatasetCard, DatasetCardData, HfApi

from nlp_balance.reporting.hub_cards import dataset_card, with_metadata, write_model_card
from nlp_balance.resampling import with_provenance_everywhere

if TYPE_CHECKING:  # pragma: no cover
    import datasets

    from nlp_balance.data.distribution import ClassDistribution
    from nlp_balance.resampling import Balancer

logger = logging.getLogger(__name__)

__all__ = ["push_balanced_dataset", "push_trained_model"]

#: Trainer leftovers that do not belong in a shared model repo.
_MODEL_IGNORE = ["checkpoint-*", "checkpoint-*/**", "runs/**", "optimizer.pt", "scheduler.pt", "rng_state*.pth",
                 "*.lock", ".cache/**"]
_README = "README.md"  # the Hub's card file
_MODEL_CONFIG = "config.json"  # transformers' file name: what makes a folder a saved model


def _merge_metadata(pushed: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """Our card's metadata over what ``datasets`` wrote; ``configs``/``dataset_info`` stay theirs, tags unite."""
    merged = dict(pushed)
    for key, value in ours.items():
        if key in ("configs", "dataset_info"):
            continue
        if key == "tags" and isinstance(pushed.get("tags"), list):
            merged["tags"] = list(dict.fromkeys([*pushed["tags"], *value]))
        else:
            merged[key] = value
    return merged


def _full_repo_id(api: HfApi, repo_id: str) -> str:
    """``user/name`` as given, or ``name`` completed with the token owner's user name."""
    if not isinstance(repo_id, str) or not repo_id.strip() or repo_id.count("/") > 1:
        raise ValueError(f"repo_id must look like 'user/name' or 'name', got {repo_id!r}")
    if "/" in repo_id:
        return repo_id
    return f"{api.whoami()['name']}/{repo_id}"


def push_balanced_dataset(
    balanced: datasets.DatasetDict,
    repo_id: str,
    *,
    balancer: Balancer,
    source: str,
    before: ClassDistribution,
    label_column: str = "label",
    text_column: str = "text",
    private: bool = False,
    token: str | None = None,
    commit_message: str | None = None,
) -> str:
    """Push every split as parquet (``DatasetDict.push_to_hub``), then our card merged into its README; returns the URL.

    The README keeps the ``configs``/``dataset_info`` metadata that ``datasets`` wrote (the Hub and
    ``load_dataset`` need them) and gets our metadata and body; the card commit names the commit it
    read, so a concurrent change makes it fail instead of being overwritten.
    """
    card = dataset_card(balanced, source=source, balancer=balancer, before=before,
                        label_column=label_column, text_column=text_column)  # fail before uploading anything
    api = HfApi(token=token)
    repo_id = _full_repo_id(api, repo_id)
    with_provenance_everywhere(balanced, balancer.split).push_to_hub(
        repo_id, private=private, token=token,
        commit_message=commit_message or f"Upload {source} rebalanced with nlp_balance")
    head = api.repo_info(repo_id, repo_type="dataset", token=token).sha
    readme = api.hf_hub_download(repo_id, _README, repo_type="dataset", revision=head, token=token)
    pushed = DatasetCard.load(readme)
    final = with_metadata(card, DatasetCardData(**_merge_metadata(pushed.data.to_dict(), card.data.to_dict())))
    # Our own HfApi, not card.push_to_hub: that uses a module-level client bound to the endpoint at import.
    api.upload_file(path_or_fileobj=str(final).encode("utf-8"), path_in_repo=_README, repo_id=repo_id,
                    repo_type="dataset", token=token, parent_commit=head,
                    commit_message="Dataset card: how the data was balanced (nlp_balance)")
    url = f"{api.endpoint}/datasets/{repo_id}"
    logger.info("pushed balanced dataset to %s", url)
    return url


def push_trained_model(
    model_dir: str | Path,
    repo_id: str,
    *,
    card_info: Mapping[str, Any] | None = None,
    private: bool = False,
    token: str | None = None,
    commit_message: str | None = None,
) -> str:
    """Write the model card into ``model_dir`` and upload the folder (``HfApi.upload_folder``); returns the URL.

    The card is built as :func:`~nlp_balance.reporting.hub_cards.write_model_card` builds it (from the
    run folder when ``model_dir`` is a run's ``model/``). Trainer leftovers (``checkpoint-*``,
    ``runs/``, optimizer and RNG states) are not uploaded.
    """
    model_dir = Path(model_dir)
    if not (model_dir / _MODEL_CONFIG).exists():
        raise FileNotFoundError(f"{str(model_dir)!r} is not a saved model folder (no {_MODEL_CONFIG})")
    write_model_card(model_dir, card_info)
    api = HfApi(token=token)
    repo_id = _full_repo_id(api, repo_id)
    url = api.create_repo(repo_id, private=private, exist_ok=True, token=token)
    api.upload_folder(folder_path=str(model_dir), repo_id=repo_id, token=token, ignore_patterns=_MODEL_IGNORE,
                      commit_message=commit_message or "Upload model fine-tuned with nlp_balance")
    logger.info("pushed model to %s", url)
    return str(url)
