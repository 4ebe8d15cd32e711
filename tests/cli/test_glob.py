"""glob, ls, lsdir and search: cottoncandy 0.4's examples, wildcards, sorting, listing only under the
pattern's literal prefix, and no truncation at any page size."""

import fnmatch
import types

import pytest

from cc_core import hookimpl
from cc_core.backend import ObjectInfo
from cc_core.builtin.memory import MemoryBackend
from cc_core.errors import InvalidNameError
from cc_core.interface import CCInterface
from cc_core.patterns import compile_pattern, has_magic, literal_prefix, matches

NAMES = [
    "path/to/my/file01a.grp/image_data", "path/to/my/file01b.grp/image_data",
    "path/to/my/file02a.grp/image_data", "path/to/my/file02a.grp/text_data",
    "path/to/my/file02b.grp/image_data", "path/to/my/file02b.grp/text_data",
    "path/to/your/file01a.grp/image_data", "path/to/your/file01b.grp/image_data",
    "path/to/your/deeper/file01c.grp/image_data",
    "path/top.json", "path/to/notes-1.txt", "path/to/notes-2.txt", "path/to/notes-10.txt",
    "other/[odd]/x", "zeta",
]


@pytest.fixture
def store(interface):
    for name in reversed(NAMES):  # written out of order: results must still come back sorted
        interface.upload_object(name, name.encode())
    return interface


def test_04_docstring_examples(store):
    assert store.glob("/path/to/*/file01*.grp/image_data") == [
        "path/to/my/file01a.grp/image_data", "path/to/my/file01b.grp/image_data",
        "path/to/your/file01a.grp/image_data", "path/to/your/file01b.grp/image_data",
    ]
    assert store.glob("/path/to/my/file02*.grp/*") == [
        "path/to/my/file02a.grp/image_data", "path/to/my/file02a.grp/text_data",
        "path/to/my/file02b.grp/image_data", "path/to/my/file02b.grp/text_data",
    ]


def test_wildcards(store):
    assert store.glob("path/to/notes-?.txt") == ["path/to/notes-1.txt", "path/to/notes-2.txt"]
    assert store.glob("path/to/notes-[12].txt") == ["path/to/notes-1.txt", "path/to/notes-2.txt"]
    assert store.glob("path/to/notes-[!1]*.txt") == ["path/to/notes-2.txt"]
    assert store.glob("path/to/notes-1*") == ["path/to/notes-1.txt", "path/to/notes-10.txt"]
    assert store.glob("path/*") == ["path/top.json"]  # * stays within one name
    assert store.glob("path/**/file01c.grp/*") == ["path/to/your/deeper/file01c.grp/image_data"]
    assert store.glob("**/text_data") == ["path/to/my/file02a.grp/text_data", "path/to/my/file02b.grp/text_data"]
    assert store.glob("**") == sorted(NAMES)
    assert store.glob("path/to/*/file0?[a-b].grp/text_data") == [
        "path/to/my/file02a.grp/text_data", "path/to/my/file02b.grp/text_data"]
    assert store.glob("other/[[]odd]/x") == ["other/[odd]/x"]
    assert store.glob("nothing/**") == [] and store.glob("path/to/zz*") == []


def test_without_wildcards_everything_below(store):
    assert store.glob("path/to/your") == [
        "path/to/your/deeper/file01c.grp/image_data", "path/to/your/file01a.grp/image_data",
        "path/to/your/file01b.grp/image_data"]
    assert store.glob("zeta") == ["zeta"]
    assert store.glob("path/to/you") == []  # a folder name, not a text prefix
    assert store.glob("") == sorted(NAMES)


def test_results_sorted_and_limited(store):
    found = store.glob("**/image_data")
    assert found == sorted(found) and len(found) == 7
    assert store.glob("**/image_data", limit=2) == found[:2]


def test_search_prints_and_returns(store, capsys):
    assert store.search("path/to/notes-*") == ["path/to/notes-1.txt", "path/to/notes-10.txt", "path/to/notes-2.txt"]
    output = capsys.readouterr().out
    assert "path/to/notes-10.txt" in output and 'Found 3 objects matching "path/to/notes-*"' in output


def test_lsdir_and_ls(store):
    assert store.lsdir("/") == ["other", "path", "zeta"]
    assert store.lsdir("path") == ["path/to", "path/top.json"]
    assert store.lsdir("path/to/") == ["path/to/my", "path/to/notes-1.txt", "path/to/notes-10.txt",
                                       "path/to/notes-2.txt", "path/to/your"]
    assert store.lsdir("path/to", limit=2) == ["path/to/my", "path/to/notes-1.txt"]
    assert store.ls("path/to/*") == store.lsdir("path/to")
    assert store.ls("path/to/*/file01a*") == ["path/to/my/file01a.grp", "path/to/your/file01a.grp"]
    assert store.ls("path/to/*/*") == [  # folders and objects at that depth
        "path/to/my/file01a.grp", "path/to/my/file01b.grp", "path/to/my/file02a.grp", "path/to/my/file02b.grp",
        "path/to/your/deeper", "path/to/your/file01a.grp", "path/to/your/file01b.grp"]
    assert store.ls("path/**/file01?.grp") == [
        "path/to/my/file01a.grp", "path/to/my/file01b.grp", "path/to/your/deeper/file01c.grp",
        "path/to/your/file01a.grp", "path/to/your/file01b.grp"]
    assert store.ls("path/**/deeper") == ["path/to/your/deeper"]
    assert store.ls("*") == ["other", "path", "zeta"]
    with pytest.raises(ValueError, match="use ls"):
        store.lsdir("path/*/x")


def test_ls_verbose_prints(store, capsys):
    store.ls("path", verbose=True)
    assert capsys.readouterr().out.split() == ["path/to", "path/top.json"]


# -- patterns -------------------------------------------------------------------------------------
@pytest.mark.parametrize("pattern, name", [
    ("a*", "abc"), ("a?c", "abc"), ("[ab]c", "bc"), ("[!a]c", "bc"), ("[a-c]x", "bx"), ("[]]", "]"),
    ("[!]]", "x"), ("[^a]", "^"), ("x\\y", "x\\y"), ("a[b", "a[b"), ("[&|~]", "~"), ("*.grp", ".grp"),
])
def test_matches_agree_with_fnmatch_within_a_name(pattern, name):
    assert fnmatch.fnmatchcase(name, pattern)
    assert matches(pattern, name)
    assert not matches(pattern, name + "/more")


@pytest.mark.parametrize("pattern, name, expected", [
    ("a/*", "a/b/c", False), ("a/**", "a/b/c", True), ("**/c", "c", True), ("**/c", "a/b/c", True),
    ("a/**/c", "a/c", True), ("a/**/c", "a/x/y/c", True), ("a?b", "a/b", False), ("a[/]b", "a/b", False),
    ("a[!x]b", "a/b", False), ("a*", "a/b", False),
])
def test_slashes(pattern, name, expected):
    assert matches(pattern, name) is expected


def test_bad_pattern_is_a_clear_error():
    with pytest.raises(InvalidNameError, match=r"\[z-a\]"):
        compile_pattern("x[z-a]")


def test_literal_prefix():
    assert literal_prefix("path/to/*/file01*.grp") == "path/to/"
    assert literal_prefix("path/to/file0?") == "path/to/file0"
    assert literal_prefix("a/[bc]") == "a/" and literal_prefix("plain") == "plain"
    assert has_magic("a[") and not has_magic("a/b")


# -- page-size independence -------------------------------------------------------------------------
class PagingBackend(MemoryBackend):
    """The memory backend listing in pages of ``page_size``, as S3 and Drive do, recording each call."""

    page_size = 2
    calls: list[tuple[str, str | None]] = []
    pages = 0

    def list(self, prefix="", delimiter=None):
        PagingBackend.calls.append((prefix, delimiter))
        entries = list(super().list(prefix, delimiter))
        for start in range(0, len(entries), self.page_size):
            PagingBackend.pages += 1
            yield from entries[start : start + self.page_size]


@pytest.fixture
def paging(temporary_plugin, cc_settings):
    plugin = types.SimpleNamespace()

    @hookimpl
    def cc_register_backends(register):
        register("paging", PagingBackend, schemes=("paging",))

    plugin.cc_register_backends = cc_register_backends
    temporary_plugin(plugin, "paging-test")
    MemoryBackend.reset()
    cci = CCInterface("paging://pages", force_bucket_creation=True, settings=cc_settings)
    for index in range(23):
        cci.upload_object(f"data/run{index:02d}/x", b"1")
        cci.upload_object(f"data/run{index:02d}/y.grp/z", b"2")
    cci.upload_object("elsewhere/run00/x", b"3")
    PagingBackend.calls.clear()
    yield cci
    MemoryBackend.reset()


@pytest.mark.parametrize("page_size", [1, 2, 7, 1000])
def test_same_results_at_any_page_size(paging, page_size, monkeypatch):
    monkeypatch.setattr(PagingBackend, "page_size", page_size)
    PagingBackend.pages = 0
    assert paging.glob("data/run*/x") == [f"data/run{i:02d}/x" for i in range(23)]
    assert len(paging.glob("data/**")) == 46
    assert paging.ls("data/run1*") == [f"data/run{i}" for i in range(10, 20)]
    assert len(paging.lsdir("data")) == 23
    assert PagingBackend.pages >= (46 // page_size if page_size < 46 else 1)  # really listed page by page


def test_lists_only_under_the_literal_prefix(paging):
    paging.glob("/data/run1*/y.grp/*")
    paging.glob("data/run0?/x")
    paging.glob("**/x")
    paging.ls("data/*/y.grp")
    paging.glob("data/run05")
    paging.lsdir("data/run05")
    assert PagingBackend.calls == [
        ("data/run1", None), ("data/run0", None), ("", None), ("data/", None), ("data/run05", None),
        ("data/run05/", "/"),
    ]
    assert paging.glob("**/run00/*") == ["data/run00/x", "elsewhere/run00/x"]


def test_get_objects_has_no_page_limit(paging):
    objects = paging.get_objects("data/", page_size=3, limit=3)
    assert len(objects) == 46 and all(isinstance(info, ObjectInfo) for info in objects)


def test_the_cli_and_the_interface_resolve_urls_in_one_place(tmp_path, cc_settings, monkeypatch):
    """TargetResolver.open and CCInterface.locate both call targets.locate."""
    from cc_core import targets
    from cc_core.targets import TargetResolver

    calls = []
    original = targets.locate

    def spy(interface, name, *args, **kwargs):
        calls.append(name)
        return original(interface, name, *args, **kwargs)

    monkeypatch.setattr(targets, "locate", spy)
    resolver = TargetResolver(cc_settings, verbose=False)
    resolver.make_bucket("memory://shared-bucket")
    target = resolver.open("memory://shared-bucket/exp/run1/")
    assert (target.key, target.base, target.folder_hint) == ("exp/run1", "memory://shared-bucket/", True)
    assert target.interface.locate("memory://shared-bucket/exp/x").key == "exp/x"
    assert calls == ["memory://shared-bucket/exp/run1/", "memory://shared-bucket/exp/x"]
    resolver.close()
