

def test_study_storage_prefers_the_live_journal_and_refuses_a_folder_without_a_study(tmp_path):
    import optuna
    import pytest

    from nas.errors import NasError
    from nas.record import STUDY_DB, STUDY_JOURNAL, study_storage

    with pytest.raises(NasError, match="not a search run folder"):
        study_storage(tmp_path)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name="j", storage=study_storage_journal(tmp_path / STUDY_JOURNAL))
    optuna.create_study(study_name="d", storage=f"sqlite:///{tmp_path / STUDY_DB}")
    live = optuna.study.get_all_study_names(study_storage(tmp_path))
    final = optuna.study.get_all_study_names(study_storage(tmp_path, final_first=True))
    assert live == ["j"] and final == ["d"]


def study_storage_journal(path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(path)))
