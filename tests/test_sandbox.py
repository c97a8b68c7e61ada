"""The sandbox runs a workflow's own module again for every workflow it starts; everything that
module imports is passed through, so it is not run again as well."""

from importlib.machinery import SourceFileLoader

import pytest
from temporalio import workflow

from service.sandbox import new_sandbox_runner
from service.worker import WORKFLOWS


@pytest.mark.parametrize("cls", WORKFLOWS, ids=lambda cls: cls.__name__)
async def test_a_workflow_in_the_sandbox_loads_only_its_own_module_again(cls, monkeypatch):
    runner = new_sandbox_runner()
    defn = workflow._Definition.must_from_class(cls)
    runner.prepare_workflow(defn)
    loaded: list[str] = []
    get_code = SourceFileLoader.get_code

    def recording(self: SourceFileLoader, fullname: str):
        loaded.append(fullname)
        return get_code(self, fullname)

    monkeypatch.setattr(SourceFileLoader, "get_code", recording)
    runner.prepare_workflow(defn)
    assert sorted(loaded) == ["workflows", cls.__module__]
