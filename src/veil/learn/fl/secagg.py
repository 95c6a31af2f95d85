"""Flower's SecAgg+ workflow, tolerant of a client that drops before it has shared its key shares.

In flwr 1.42 a client that answers neither the setup nor the share-keys stage (a SuperNode killed as a round
starts) stays among the round's sampled clients; nobody holds shares of its secrets, so the unmask stage finds "not
enough shares" and the whole round is lost, although no surviving client ever masked its update with it (clients
only mask with neighbours whose key shares reached them). Such a client is removed from the round after each of
those two stages, and from every neighbourhood, so the server neither looks for its shares nor removes masks that
were never added. Dropouts after the share-keys stage are Flower's own recovery, unchanged.
"""

from __future__ import annotations

from flwr.server import LegacyContext
from flwr.server.workflow import SecAggPlusWorkflow
from flwr.server.workflow.secure_aggregation.secaggplus_workflow import WorkflowState
from flwr.serverapp import Grid


class TolerantSecAggPlus(SecAggPlusWorkflow):
    def setup_stage(self, grid: Grid, context: LegacyContext, state: WorkflowState) -> bool:
        ok = super().setup_stage(grid, context, state)
        return ok and _forget_absent(self, state)

    def share_keys_stage(self, grid: Grid, context: LegacyContext, state: WorkflowState) -> bool:
        ok = super().share_keys_stage(grid, context, state)
        return ok and _forget_absent(self, state)


def _forget_absent(workflow: SecAggPlusWorkflow, state: WorkflowState) -> bool:
    gone = state.sampled_node_ids - state.active_node_ids
    if gone:
        state.sampled_node_ids -= gone
        for neighbours in state.nid_to_neighbours.values():
            neighbours -= gone
    return bool(workflow._check_threshold(state))
