"""Build an Excel ``vbaProject.bin`` from VBA source text.

XlsxWriter can put a VBA project and form buttons in an ``.xlsm`` but needs
the binary project; Excel can only save one, and a checked-in binary drifts
from the source. This module writes the binary from the ``.bas`` files in
``macros/`` instead, following MS-OVBA: a compound file with the ``PROJECT``
and ``PROJECTwm`` streams, ``VBA/_VBA_PROJECT`` (version 0xFFFF: no
compiled cache, so Office compiles the source on load), the compressed
``VBA/dir`` stream and one compressed stream per module.

The compressor is the MS-OVBA 2.4.1.3 algorithm (longest match, nearest
candidate on ties). Its output is checked by round trips through the
decompressor below, through oletools and through LibreOffice. Excel's own
compressor picks shorter or farther matches at times, so its bytes differ;
any valid container decompresses to the same text.
"""

from __future__ import annotations

import hashlib
import re
import struct
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kamxl.cfb import write_compound_file

__all__ = [
    "QBR_MACRO",
    "RECOMPUTE_MACRO",
    "ROLLUP_MACRO",
    "VbaModule",
    "build_vba_project",
    "button_macros",
    "compress",
    "decompress",
    "kamxl_vba_project",
    "load_macro_sources",
    "macros_folder",
    "module_stream_text",
    "normalize_newlines",
    "xlwings_dictionary_class",
    "xlwings_standalone_module",
    "xlwings_vba_version",
]

# Macros of macros/KamxlButtons.bas that the workbook buttons call.
RECOMPUTE_MACRO = "KamxlRecompute"
ROLLUP_MACRO = "KamxlRollup"
QBR_MACRO = "KamxlQbr"

CODEPAGE = 1252
ENCODING = "cp1252"
CHUNK_SIZE = 4096

# VB_Base of each kind of document module, as Excel writes it.
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}\Z")
_ATTRIBUTE = re.compile(r"Attribute\s+(VB_\w+)\s*=\s*(.*)\Z")
_PUBLIC_SUB = re.compile(r"^[ \t]*(?:Public[ \t]+)?Sub[ \t]+(\w+)[ \t]*\(\s*\)", re.IGNORECASE | re.MULTILINE)
_VB_NAME = re.compile(r'\s*Attribute\s+VB_Name\s*=\s*"([^"]*)"', re.IGNORECASE)


# --------------------------------------------------------------------------
# MS-OVBA 2.4.1 compression
# --------------------------------------------------------------------------


def _match_length(data: bytes, a: int, b: int, end: int) -> int:
    """Length of the common run of ``data[a:]`` and ``data[b:]`` before ``end``."""
    length = 0
    step = 64
    while b + length < end:
        n = min(step, end - b - length)
        if data[a + length : a + length + n] == data[b + length : b + length + n]:
            length += n
            continue
        while b + length < end and data[a + length] == data[b + length]:
            length += 1
        break
    return length


def _bit_count(position: int) -> int:
    """Offset bits of a copy token ``position`` bytes into its chunk (>= 1)."""
    return max((position - 1).bit_length(), 4)


def _compress_chunk(chunk: bytes) -> bytes:
    end = len(chunk)
    out = bytearray()
    pos = 0
    limit = CHUNK_SIZE  # compressed data bytes allowed after the 2-byte header
    full = False
    while pos < end and not full:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            if len(out) >= limit:
                full = True
                break
            # Longest match among candidates before pos; nearest one on ties.
            best_len, best_at = 0, -1
            if pos > 0 and end - pos >= 3:
                want = 3
                while pos + want <= end:
                    at = chunk.rfind(chunk[pos : pos + want], 0, pos - 1 + want)
                    if at < 0:
                        break
                    best_at = at
                    best_len = _match_length(chunk, at, pos, end)
                    want = best_len + 1
            if best_len >= 3:
                bits = _bit_count(pos)
                length = min(best_len, (0xFFFF >> bits) + 3)
                if len(out) + 1 >= limit:
                    full = True
                    break
                token = ((pos - best_at - 1) << (16 - bits)) | (length - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                pos += length
            else:
                out.append(chunk[pos])
                pos += 1
        out[flag_at] = flags
    if pos < end:
        # Did not fit: a raw chunk always holds 4096 bytes (MS-OVBA 2.4.1.3.10).
        return struct.pack("<H", 0x3FFF) + chunk.ljust(CHUNK_SIZE, b"\x00")
    return struct.pack("<H", 0xB000 | (len(out) + 2 - 3)) + bytes(out)


def compress(data: bytes) -> bytes:
    """Compress ``data`` into an MS-OVBA CompressedContainer.

    A final chunk that does not compress below 4096 bytes is stored raw and,
    as the format requires, padded with zero bytes to 4096: only data that
    is nearly random can hit this, never VBA source text.
    """
    data = bytes(data)
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK_SIZE):
        out += _compress_chunk(data[start : start + CHUNK_SIZE])
    return bytes(out)


def decompress(data: bytes) -> bytes:
    """Decompress an MS-OVBA CompressedContainer (inverse of :func:`compress`)."""
    data = bytes(data)
    if not data or data[0] != 1:
        raise ValueError("not an MS-OVBA compressed container (signature byte != 1)")
    out = bytearray()
    pos = 1
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError("truncated chunk header")
        (header,) = struct.unpack_from("<H", data, pos)
        if (header >> 12) & 0x7 != 0b011:
            raise ValueError(f"bad chunk signature at byte {pos}")
        chunk_end = min(pos + (header & 0x0FFF) + 3, len(data))
        pos += 2
        chunk_start = len(out)
        if not header & 0x8000:
            out += data[pos : pos + CHUNK_SIZE]
            pos += CHUNK_SIZE
            continue
        while pos < chunk_end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not (flags >> bit) & 1:
                    out.append(data[pos])
                    pos += 1
                    continue
                if pos + 2 > chunk_end:
                    raise ValueError("truncated copy token")
                (token,) = struct.unpack_from("<H", data, pos)
                pos += 2
                bits = _bit_count(len(out) - chunk_start)
                offset = (token >> (16 - bits)) + 1
                length = (token & (0xFFFF >> bits)) + 3
                source = len(out) - offset
                if source < chunk_start:
                    raise ValueError("copy token points before its chunk")
                if offset >= length:
                    out += out[source : source + length]
                else:
                    for i in range(length):
                        out.append(out[source + i])
    return bytes(out)


# --------------------------------------------------------------------------
# MS-OVBA 2.4.3 data encryption (PROJECT stream CMG, DPB, GC values)
# --------------------------------------------------------------------------


def _encrypt(data: bytes, project_id: str, seed: int) -> str:
    """Encrypt ``data`` the way Office stores the protection state (hex text)."""
    version = 2
    project_key = sum(project_id.encode(ENCODING)) & 0xFF
    out = [seed, seed ^ version, seed ^ project_key]
    unencrypted_1 = project_key
    encrypted_1 = out[2]
    encrypted_2 = out[1]
    ignored = (seed & 6) // 2
    payload = b"\x00" * ignored + struct.pack("<I", len(data)) + data
    for byte in payload:
        encrypted = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(encrypted)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, encrypted, byte
    return bytes(out).hex().upper()


def _decrypt(text: str) -> tuple[int, bytes]:
    """Return (project key, data) of an encrypted PROJECT value (for checks)."""
    raw = bytes.fromhex(text)
    seed, version_enc, project_key_enc = raw[0], raw[1], raw[2]
    if seed ^ version_enc != 2:
        raise ValueError("unknown encryption version")
    project_key = seed ^ project_key_enc
    unencrypted_1, encrypted_1, encrypted_2 = project_key, project_key_enc, version_enc
    plain = bytearray()
    for encrypted in raw[3:]:
        byte = encrypted ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        plain.append(byte)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, encrypted, byte
    ignored = (seed & 6) // 2
    (length,) = struct.unpack_from("<I", plain, ignored)
    data = bytes(plain[ignored + 4 : ignored + 4 + length])
    if len(data) != length:
        raise ValueError("encrypted value shorter than its length field")
    return project_key, data


# --------------------------------------------------------------------------
# Module text
# --------------------------------------------------------------------------

KIND_STANDARD = "standard"
KIND_CLASS = "class"
KIND_DOCUMENT = "document"

# Attribute order and defaults of class and document modules, as Excel
# writes them after importing a .cls file or creating a sheet.
_HEADER_ORDER = (
    "VB_Name",
    "VB_Base",
    "VB_GlobalNameSpace",
    "VB_Creatable",
    "VB_PredeclaredId",
    "VB_Exposed",
    "VB_TemplateDerived",
    "VB_Customizable",
)
_CLASS_DEFAULTS = {
    "VB_Base": f'"{CLASS_BASE}"',
    "VB_GlobalNameSpace": "False",
    "VB_Creatable": "False",
    "VB_PredeclaredId": "False",
    "VB_Exposed": "False",
    "VB_TemplateDerived": "False",
    "VB_Customizable": "False",
}
_DOCUMENT_DEFAULTS = {
    "VB_GlobalNameSpace": "False",
    "VB_Creatable": "False",
    "VB_PredeclaredId": "True",
    "VB_Exposed": "True",
    "VB_TemplateDerived": "False",
    "VB_Customizable": "True",
}


def normalize_newlines(text: str) -> str:
    """Return ``text`` with every line break as CRLF, as the VBA editor stores it."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _check_identifier(name: str, what: str) -> None:
    if not _IDENTIFIER.match(name):
        raise ValueError(
            f"{what} {name!r} is not a VBA identifier "
            "(a letter, then up to 30 letters, digits or underscores)"
        )


def module_stream_text(name: str, source: str, kind: str = KIND_STANDARD, *, base: str | None = None) -> str:
    """Return the exact text stored in the module stream of ``name``.

    This is the normalisation that the round-trip tests compare against:

    * line breaks become CRLF and the text ends with one;
    * a class file's ``VERSION 1.0 CLASS`` / ``BEGIN`` ... ``END`` header,
      which the VBA editor keeps out of the stream, is dropped;
    * the leading ``Attribute`` lines start with ``Attribute VB_Name =
      "<name>"`` (added when missing; a different name is an error); class
      and document modules get the attributes Excel writes for them, in
      Excel's order, where the source does not set them.

    Everything after the leading attribute lines is kept byte for byte.
    ``base`` is the ``VB_Base`` of a document module (the workbook or a
    worksheet).
    """
    if kind not in (KIND_STANDARD, KIND_CLASS, KIND_DOCUMENT):
        raise ValueError(f"unknown module kind {kind!r}")
    _check_identifier(name, "module name")
    lines = normalize_newlines(source).split("\r\n")
    if lines and lines[-1] == "":
        lines.pop()
    if kind == KIND_CLASS and lines and lines[0].upper().startswith("VERSION "):
        end = next((i for i, line in enumerate(lines) if line.strip().upper() == "END"), None)
        if end is None:
            raise ValueError(f"class module {name}: VERSION header without END")
        lines = lines[end + 1 :]
    attributes: dict[str, str] = {}
    first_body = 0
    while first_body < len(lines) and (match := _ATTRIBUTE.match(lines[first_body])):
        attributes[match.group(1)] = match.group(2)
        first_body += 1
    given_name = attributes.get("VB_Name")
    if given_name is not None and given_name != f'"{name}"':
        raise ValueError(f"module {name}: source says Attribute VB_Name = {given_name}")
    attributes["VB_Name"] = f'"{name}"'
    if kind == KIND_CLASS:
        defaults = _CLASS_DEFAULTS
    elif kind == KIND_DOCUMENT:
        if base is None:
            raise ValueError("a document module needs its VB_Base")
        defaults = {"VB_Base": f'"{base}"', **_DOCUMENT_DEFAULTS}
    else:
        defaults = {}
    merged = {**defaults, **attributes}
    order = [k for k in _HEADER_ORDER if k in merged] if kind != KIND_STANDARD else ["VB_Name"]
    order += [k for k in attributes if k not in order]
    header = [f"Attribute {key} = {merged[key]}" for key in order]
    text = "\r\n".join(header + lines[first_body:]) + "\r\n"
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"module {name}: character {text[exc.start]!r} is not in code page {CODEPAGE}"
        ) from None
    return text


@dataclass(frozen=True)
class VbaModule:
    """One module of a project: its name, kind and the exact stream text."""

    name: str
    kind: str
    text: str


# --------------------------------------------------------------------------
# Project streams
# --------------------------------------------------------------------------


def _record(record_id: int, payload: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(payload)) + payload


def _mbcs(text: str) -> bytes:
    return text.encode(ENCODING)


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _dir_stream(project_name: str, modules: list[VbaModule]) -> bytes:
    """The decompressed ``VBA/dir`` stream (MS-OVBA 2.3.4.2)."""
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", 1))  # PROJECTSYSKIND: 32-bit Windows
    out += _record(0x0002, struct.pack("<I", 0x0409))  # PROJECTLCID
    out += _record(0x0014, struct.pack("<I", 0x0409))  # PROJECTLCIDINVOKE
    out += _record(0x0003, struct.pack("<H", CODEPAGE))  # PROJECTCODEPAGE
    out += _record(0x0004, _mbcs(project_name))  # PROJECTNAME
    out += _record(0x0005, b"") + _record(0x0040, b"")  # PROJECTDOCSTRING
    out += _record(0x0006, b"") + _record(0x003D, b"")  # PROJECTHELPFILEPATH
    out += _record(0x0007, struct.pack("<I", 0))  # PROJECTHELPCONTEXT
    out += _record(0x0008, struct.pack("<I", 0))  # PROJECTLIBFLAGS
    # PROJECTVERSION: its Reserved field is 4, then major (4 bytes), minor (2).
    out += struct.pack("<HIIH", 0x0009, 4, 1467127224, 5)
    out += _record(0x000C, b"") + _record(0x003C, b"")  # PROJECTCONSTANTS
    # No REFERENCE records: the code needs only the VBA and Excel libraries,
    # which the host always provides. A reference that a machine cannot
    # resolve is shown as MISSING and stops the whole project compiling.
    out += _record(0x000F, struct.pack("<H", len(modules)))  # PROJECTMODULES
    out += _record(0x0013, struct.pack("<H", 0xFFFF))  # PROJECTCOOKIE
    for module in modules:
        out += _record(0x0019, _mbcs(module.name))  # MODULENAME
        out += _record(0x0047, _utf16(module.name))  # MODULENAMEUNICODE
        out += _record(0x001A, _mbcs(module.name))  # MODULESTREAMNAME
        out += _record(0x0032, _utf16(module.name))
        out += _record(0x001C, b"") + _record(0x0048, b"")  # MODULEDOCSTRING
        out += _record(0x0031, struct.pack("<I", 0))  # MODULEOFFSET: no p-code
        out += _record(0x001E, struct.pack("<I", 0))  # MODULEHELPCONTEXT
        out += _record(0x002C, struct.pack("<H", 0xFFFF))  # MODULECOOKIE
        module_type = 0x0021 if module.kind == KIND_STANDARD else 0x0022
        out += _record(module_type, b"")  # MODULETYPE
        out += _record(0x002B, b"")  # module terminator
    out += _record(0x0010, b"")  # dir terminator
    return bytes(out)


def _project_stream(project_name: str, project_id: str, seeds: bytes, modules: list[VbaModule]) -> bytes:
    """The ``PROJECT`` stream (MS-OVBA 2.3.1): project properties as text."""
    lines = [f'ID="{project_id}"']
    for module in modules:
        if module.kind == KIND_DOCUMENT:
            lines.append(f"Document={module.name}/&H00000000")
        elif module.kind == KIND_CLASS:
            lines.append(f"Class={module.name}")
        else:
            lines.append(f"Module={module.name}")
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        # Not protected, no password, visible: encrypted as Office does.
        f'CMG="{_encrypt(bytes(4), project_id, seeds[0])}"',
        f'DPB="{_encrypt(bytes(1), project_id, seeds[1])}"',
        f'GC="{_encrypt(bytes([0xFF]), project_id, seeds[2])}"',
        "",
        "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
        "[Workspace]",
    ]
    lines += [f"{module.name}=0, 0, 0, 0, C" for module in modules]
    return _mbcs("\r\n".join(lines) + "\r\n")


def _projectwm_stream(modules: list[VbaModule]) -> bytes:
    """The ``PROJECTwm`` stream (MS-OVBA 2.3.3): module names, MBCS and UTF-16."""
    out = bytearray()
    for module in modules:
        out += _mbcs(module.name) + b"\x00" + _utf16(module.name) + b"\x00\x00"
    return bytes(out + b"\x00\x00")


def build_vba_project(
    modules: Mapping[str, str],
    *,
    class_modules: Mapping[str, str] | None = None,
    document_modules: Mapping[str, str] | None = None,
    workbook_code_name: str = "ThisWorkbook",
    project_name: str = "VBAProject",
) -> bytes:
    """Return a ``vbaProject.bin`` holding the given VBA modules.

    ``modules`` maps standard module names to their source (a ``.bas`` file,
    with or without its ``Attribute VB_Name`` line); ``class_modules`` does
    the same for class modules (``.cls`` text). ``document_modules`` maps
    the code names of the workbook and its worksheets (XlsxWriter's
    ``set_vba_name``) to their code, often empty; every sheet of the
    workbook must be listed, and ``workbook_code_name`` is added if missing.
    The stored text of each module is :func:`module_stream_text`. The
    output depends only on the arguments.
    """
    _check_identifier(project_name, "project name")
    documents = dict(document_modules or {})
    documents.setdefault(workbook_code_name, "")
    items: list[VbaModule] = []
    items.append(
        VbaModule(
            workbook_code_name,
            KIND_DOCUMENT,
            module_stream_text(
                workbook_code_name, documents.pop(workbook_code_name), KIND_DOCUMENT, base=WORKBOOK_BASE
            ),
        )
    )
    for name, code in documents.items():
        items.append(
            VbaModule(name, KIND_DOCUMENT, module_stream_text(name, code, KIND_DOCUMENT, base=WORKSHEET_BASE))
        )
    for name, code in modules.items():
        items.append(VbaModule(name, KIND_STANDARD, module_stream_text(name, code)))
    for name, code in (class_modules or {}).items():
        items.append(VbaModule(name, KIND_CLASS, module_stream_text(name, code, KIND_CLASS)))
    seen: set[str] = set()
    for item in items:
        if item.name.upper() in seen:
            raise ValueError(f"two modules are named {item.name!r} (names ignore case)")
        seen.add(item.name.upper())
    if project_name.upper() in seen:
        raise ValueError(f"the project and a module are both named {project_name!r}")

    digest = hashlib.sha256()
    digest.update(_mbcs(project_name) + b"\x00")
    for item in items:
        digest.update(f"{item.kind}:{item.name}\x00".encode() + _mbcs(item.text) + b"\x00")
    fingerprint = digest.digest()
    project_id = "{" + str(uuid.UUID(bytes=fingerprint[:16], version=4)).upper() + "}"

    streams: dict[str, bytes] = {
        "PROJECT": _project_stream(project_name, project_id, fingerprint[16:19], items),
        "PROJECTwm": _projectwm_stream(items),
        # _VBA_PROJECT: Reserved1 0x61CC, Version 0xFFFF (no compiled cache), 0, 0.
        "VBA/_VBA_PROJECT": struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0000),
        "VBA/dir": compress(_dir_stream(project_name, items)),
    }
    for item in items:
        raw = _mbcs(item.text)
        packed = compress(raw)
        if decompress(packed) != raw:  # cheap guard: the text must survive exactly
            raise AssertionError(f"module {item.name} does not survive compression")
        streams[f"VBA/{item.name}"] = packed
    return write_compound_file(streams)


# --------------------------------------------------------------------------
# Sources: macros/ and the installed xlwings package
# --------------------------------------------------------------------------


def macros_folder() -> Path:
    """Folder of the project's ``.bas`` files.

    ``kamxl/macros`` when the package ships it as package data, else the
    ``macros/`` folder at the root of a source checkout.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "macros", here.parent / "macros"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no macros folder next to {here}")


def load_macro_sources(folder: str | Path | None = None) -> dict[str, str]:
    """Read every ``.bas`` file of ``folder`` (default :func:`macros_folder`).

    Returns module name -> source, sorted by name. The name comes from the
    file's ``Attribute VB_Name`` line, else from the file name. Files are
    UTF-8 text whose characters exist in code page 1252; line breaks are
    left as they are (the builder makes them CRLF).
    """
    root = Path(folder) if folder is not None else macros_folder()
    sources: dict[str, str] = {}
    for path in sorted(root.glob("*.bas")):
        text = path.read_bytes().decode("utf-8")
        match = _VB_NAME.match(text)
        name = match.group(1) if match else path.stem
        if name in sources:
            raise ValueError(f"{path}: module {name} is defined twice")
        sources[name] = text
    return dict(sorted(sources.items()))


def _xlwings_folder() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the xlwings package is needed to embed its VBA module: pip install xlwings"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def xlwings_standalone_module() -> tuple[str, str]:
    """Return ``("xlwings", source)`` of the installed xlwings' standalone VBA module.

    It is the module ``xlwings quickstart --standalone`` embeds: it defines
    ``RunPython`` so the workbook needs no add-in. Read from the installed
    package so that its version always matches the Python side.
    """
    path = _xlwings_folder() / "xlwings.bas"
    return "xlwings", path.read_bytes().decode("utf-8")


def xlwings_vba_version(source: str | None = None) -> str:
    """Version of an xlwings VBA module (default: the installed one), e.g. ``"0.37.8"``.

    On macOS that module runs ``xlwings-<version>.applescript``, which
    ``xlwings runpython install`` installs for the user's own xlwings, so a
    workbook works there only with that same xlwings version.
    """
    if source is None:
        source = xlwings_standalone_module()[1]
    match = re.search(r'XLWINGS_VERSION\s+As\s+String\s*=\s*"([^"]+)"', source, re.IGNORECASE)
    if not match:
        raise ValueError("no XLWINGS_VERSION constant in this xlwings module")
    return match.group(1)


def xlwings_dictionary_class() -> tuple[str, str]:
    """Return ``("Dictionary", source)``: the class the xlwings module needs on macOS.

    ``xlwings.bas`` uses ``Scripting.Dictionary`` on Windows and this
    drop-in class (VBA-Dictionary, MIT) on macOS, which has no scripting
    runtime; standalone workbooks made by xlwings carry both.
    """
    path = _xlwings_folder() / "addin" / "Dictionary.cls"
    return "Dictionary", path.read_bytes().decode("utf-8")


def kamxl_vba_project(
    sheet_code_names: Sequence[str],
    *,
    workbook_code_name: str = "ThisWorkbook",
    include_xlwings: bool = True,
    macros: Mapping[str, str] | None = None,
) -> bytes:
    """Return the ``vbaProject.bin`` of a kamxl workbook.

    The project holds the modules of ``macros/`` (or ``macros``), the
    xlwings standalone module and its ``Dictionary`` class (unless
    ``include_xlwings`` is false), and one empty document module per code
    name: ``workbook_code_name`` and ``sheet_code_names``, in sheet order,
    exactly as given to XlsxWriter's ``set_vba_name``.
    """
    standard = dict(macros if macros is not None else load_macro_sources())
    classes: dict[str, str] = {}
    if include_xlwings:
        name, source = xlwings_standalone_module()
        standard[name] = source
        name, source = xlwings_dictionary_class()
        classes[name] = source
    if isinstance(sheet_code_names, str):
        raise TypeError("sheet_code_names is a list of code names, not one string")
    documents = {workbook_code_name: ""}
    for code_name in sheet_code_names:
        if code_name in documents:
            raise ValueError(f"code name {code_name!r} is used twice")
        documents[code_name] = ""
    return build_vba_project(
        standard,
        class_modules=classes,
        document_modules=documents,
        workbook_code_name=workbook_code_name,
    )


def button_macros(modules: Mapping[str, str]) -> dict[str, str]:
    """Map each macro a button can call to its module: ``{"KamxlRecompute": "KamxlButtons"}``.

    A button can call a public ``Sub`` without parameters of a standard
    module; the writer checks its ``insert_button(..., {"macro": ...})``
    names against this.
    """
    found: dict[str, str] = {}
    for module, source in modules.items():
        if re.search(r"^[ \t]*Option[ \t]+Private[ \t]+Module\b", source, re.IGNORECASE | re.MULTILINE):
            continue
        for match in _PUBLIC_SUB.finditer(source):
            found.setdefault(match.group(1), module)
    return found
