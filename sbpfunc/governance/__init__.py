"""sbpfunc.governance: which SBPFunc modules are callable, decided by stake-weighted signed votes.

proposal.py (Proposal, lifecycle states, murmur3 collision check), stake.py (per-epoch stake
snapshots), ballot.py (ed25519 ballots over domain-separated bytes), tally.py (integer tally),
schedule.py (lifecycle and activation schedule derived from recorded facts), store.py (SQLite
persistence and the rules; `activation_source()` is the registry's ActivationSource), audit.py
(`sbpfunc module audit`), dryrun.py (dry-runs). Rules and formats: docs/governance.md.

This package never imports the VM (sbpfunc.vm, sbpfunc.runtime, sbpfunc.elf); only audit.py reads
module manifests through sbpfunc.syscalls, inside its subprocess. Import submodules directly.
"""
