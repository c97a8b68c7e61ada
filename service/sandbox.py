"""The one workflow runner used by the worker and the tests."""

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PURE_PACKAGES = ("domain", "opportunities", "rubrics", "workflows.rules")


def new_sandbox_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PURE_PACKAGES)
    )
