"""The transparency log (no Django): RFC 6962/9162 Merkle trees and proofs, C2SP tlog-tiles
storage, signed-note checkpoints, witness cosignatures. Being built."""
