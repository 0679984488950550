"""Generated code of the contracts several services share (protos/omni/common; `make protos`)."""
