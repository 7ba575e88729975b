"""Test-only shim, put on PYTHONPATH by test_launch.py: real FSDP2 over gloo on CPU.

accelerate runs FSDP on accelerators only: on CPU its state stays MULTI_CPU and the model is wrapped in plain
DDP. Torch's FSDP2 itself shards on CPU over gloo, so this shim turns the MULTI_CPU state into FSDP with the
plugin that `accelerate launch` configured from the shipped fsdp.yaml (FSDP_* environment). Everything after
that — sharding, training, Trainer.save_model's full-state-dict gather — is the real code path.
"""

import os

if os.environ.get("LUBAN_TEST_FSDP_ON_CPU") == "1":
    from accelerate import Accelerator
    from accelerate.state import PartialState
    from accelerate.utils import DistributedType, FullyShardedDataParallelPlugin

    _init = Accelerator.__init__

    def _init_fsdp_on_cpu(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        _init(self, *args, **kwargs)
        state = self.state
        if state.distributed_type == DistributedType.MULTI_CPU:
            state.fsdp_plugin = FullyShardedDataParallelPlugin()  # reads the FSDP_* variables of the launch
            state.distributed_type = DistributedType.FSDP
            PartialState._shared_state["distributed_type"] = DistributedType.FSDP  # as AcceleratorState does

    Accelerator.__init__ = _init_fsdp_on_cpu
