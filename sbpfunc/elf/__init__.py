"""sbpfunc.elf: ELF64 schemas, the Agave-compatible SBPF loader and a shared-object writer."""

from .loader import ELF_ERROR_MESSAGES, LoaderConfig, get_sbpf_version, load_elf
from .writer import LinkImage, Reloc, write_shared_object

__all__ = ["load_elf", "get_sbpf_version", "LoaderConfig", "ELF_ERROR_MESSAGES",
           "LinkImage", "Reloc", "write_shared_object"]
