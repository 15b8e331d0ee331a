"""engine.store.git_clone on real repositories: file://, a real `git daemon`, and HTTP with basic auth."""

from __future__ import annotations

import shutil

import pytest

from engine.store.git_clone import (
    CloneError,
    CloneRequest,
    clone_repository,
    mask_secrets,
    rewrite_url,
)
from tests.gitrepos import basic_auth_git_http, free_port, git, history_repo, silent_server

TRANSPORTS = ["file", "daemon"]


def url_of(served, transport: str) -> str:
    return served.file_url if transport == "file" else served.daemon_url


def clone(request: CloneRequest) -> tuple[object, list[str]]:
    lines: list[str] = []
    return clone_repository(request, lines.append), lines


def head(directory) -> str:
    return git("rev-parse", "HEAD", cwd=directory)


def commit_count(directory) -> int:
    return int(git("rev-list", "--count", "HEAD", cwd=directory))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_clone_branch_checks_out_its_tip(served_repo, tmp_path, transport):
    result, lines = clone(CloneRequest(url=url_of(served_repo, transport), directory=tmp_path / "c",
                                       branch="feature"))
    assert result.commit == served_repo.repo.feature == head(tmp_path / "c")
    assert (tmp_path / "c" / "feature.txt").read_text() == "feature\n"
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=tmp_path / "c") == "feature"
    assert any(url_of(served_repo, transport) in line for line in lines)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_depth_one_gives_one_commit_and_no_depth_the_whole_history(served_repo, tmp_path, transport):
    url = url_of(served_repo, transport)
    clone(CloneRequest(url=url, directory=tmp_path / "shallow", branch="main", depth=1))
    clone(CloneRequest(url=url, directory=tmp_path / "full", branch="main", depth=None))
    assert commit_count(tmp_path / "shallow") == 1
    assert commit_count(tmp_path / "full") == 4
    assert (tmp_path / "shallow" / "version.txt").read_text() == "v4\n"


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("tag", "index"), [("v1", 0), ("v2", 2)], ids=["lightweight", "annotated"])
def test_tag_checks_out_the_tagged_commit(served_repo, tmp_path, transport, tag, index):
    result, _ = clone(CloneRequest(url=url_of(served_repo, transport), directory=tmp_path / "c", tag=tag))
    assert result.commit == served_repo.repo.commits[index] == head(tmp_path / "c")
    assert (tmp_path / "c" / "version.txt").read_text() == f"v{index + 1}\n"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_specific_commit_without_any_ref_on_it(served_repo, tmp_path, transport):
    wanted = served_repo.repo.commits[1]
    result, _ = clone(CloneRequest(url=url_of(served_repo, transport), directory=tmp_path / "c",
                                   branch="main", commit=wanted))
    assert result.commit == wanted == head(tmp_path / "c")
    assert (tmp_path / "c" / "version.txt").read_text() == "v2\n"


def test_abbreviated_commit_falls_back_to_a_full_fetch(served_repo, tmp_path):
    wanted = served_repo.repo.commits[1]
    result, _ = clone(CloneRequest(url=served_repo.daemon_url, directory=tmp_path / "c", commit=wanted[:10]))
    assert result.commit == wanted
    assert (tmp_path / "c" / "version.txt").read_text() == "v2\n"


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("ref", "expected_head"), [
    ({"branch": "main"}, 3), ({"tag": "v2"}, 2), ({}, 3), ({"commit": "c1"}, 1)],
    ids=["branch", "tag", "default-branch", "commit"])
def test_non_empty_directory_keeps_its_files(served_repo, tmp_path, transport, ref, expected_head):
    target = tmp_path / "wdir"
    (target / "sub").mkdir(parents=True)
    (target / "data.csv").write_text("Name,Age\nA,1\n")
    (target / "sub" / "input.txt").write_text("kept\n")
    (target / "README.md").write_text("local version\n")  # collides with a repository file
    if ref.get("commit") == "c1":
        ref = {"commit": served_repo.repo.commits[1]}
    result, lines = clone(CloneRequest(url=url_of(served_repo, transport), directory=target, **ref))
    assert result.commit == served_repo.repo.commits[expected_head] == head(target)
    assert (target / "data.csv").read_text() == "Name,Age\nA,1\n"
    assert (target / "sub" / "input.txt").read_text() == "kept\n"
    assert (target / "version.txt").read_text() == f"v{expected_head + 1}\n"
    assert (target / "README.md").read_text() == "# history\n"  # the repository's file wins
    status = git("status", "--porcelain", cwd=target).splitlines()
    assert sorted(status) == ["?? data.csv", "?? sub/"]
    assert any("keeping the files already there" in line for line in lines)
    if "branch" in ref or not ref:
        assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=target) == "main"
        assert git("rev-parse", "--abbrev-ref", "main@{upstream}", cwd=target) == "origin/main"


def test_url_rewrite_uses_the_longest_prefix_and_says_so(served_repo, tmp_path):
    rewrites = (("https://github.com/", "file:///nowhere/"),
                ("https://github.com/kestra-io/", f"git://127.0.0.1:{served_repo.port}/"))
    result, lines = clone(CloneRequest(url="https://github.com/kestra-io/history.git",
                                       directory=tmp_path / "c", url_rewrites=rewrites))
    assert result.url == served_repo.daemon_url
    assert result.commit == served_repo.repo.commits[3]
    assert any(served_repo.daemon_url in line and "rewritten from https://github.com/kestra-io/history.git"
               in line for line in lines)


@pytest.mark.parametrize(("url", "rewrites", "expected"), [
    ("https://a/b/c", (), "https://a/b/c"),
    ("https://a/b/c", (("https://a/", "file:///x/"),), "file:///x/b/c"),
    ("https://a/b/c", (("https://a/", "1/"), ("https://a/b/", "2/")), "2/c"),
    ("https://other/b", (("https://a/", "1/"),), "https://other/b"),
])
def test_rewrite_url_is_git_instead_of(url, rewrites, expected):
    assert rewrite_url(url, rewrites) == expected


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("ref", "named"), [
    ({"branch": "nope"}, "branch 'nope'"),
    ({"tag": "v9"}, "tag 'v9'"),
    ({"commit": "0123456789abcdef0123456789abcdef01234567"}, "commit '0123456789abcdef0123456789abcdef01234567'"),
])
def test_unknown_ref_fails_naming_it(served_repo, tmp_path, transport, ref, named):
    target = tmp_path / "c"
    with pytest.raises(CloneError) as caught:
        clone(CloneRequest(url=url_of(served_repo, transport), directory=target, **ref))
    assert named in caught.value.message
    assert "not found" in caught.value.message
    assert not (target / ".git").exists()  # nothing half-done left for a retry to trip on


def test_unknown_branch_in_a_non_empty_directory_leaves_it_as_it_was(served_repo, tmp_path):
    target = tmp_path / "wdir"
    target.mkdir()
    (target / "data.csv").write_text("x\n")
    with pytest.raises(CloneError, match="branch 'nope' not found"):
        clone(CloneRequest(url=served_repo.daemon_url, directory=target, branch="nope"))
    assert sorted(p.name for p in target.iterdir()) == ["data.csv"]


# A clone that hung (a prompt, a retry loop, no network timeout) is cut off by this timeout and
# fails the test; what the tests assert is the failure itself and what it says.
HANG = pytest.mark.timeout(60)


@HANG
@pytest.mark.parametrize("scheme", ["git", "http"])
def test_unreachable_server_fails_with_a_clear_message(tmp_path, scheme):
    url = f"{scheme}://127.0.0.1:{free_port()}/repo.git"
    with pytest.raises(CloneError) as caught:
        clone(CloneRequest(url=url, directory=tmp_path / "c"))
    assert caught.value.message.startswith(f"cannot reach {url}")
    assert not (tmp_path / "c" / ".git").exists()


@HANG
@pytest.mark.skipif(shutil.which("ssh") is None, reason="no ssh client installed")
def test_ssh_url_fails_instead_of_prompting(tmp_path):
    url = f"ssh://git@127.0.0.1:{free_port()}/repo.git"
    with pytest.raises(CloneError) as caught:
        clone(CloneRequest(url=url, directory=tmp_path / "c"))
    assert caught.value.message.startswith(f"cannot reach {url}")


@HANG
def test_server_that_never_answers_is_cut_off_by_the_network_timeout(tmp_path):
    with silent_server() as port, pytest.raises(CloneError) as caught:
        clone(CloneRequest(url=f"git://127.0.0.1:{port}/repo.git", directory=tmp_path / "c",
                           network_timeout=2))
    # the server holds the connection open and never speaks: only the timeout ends the clone
    assert "timed out" in caught.value.message


def test_missing_repository_and_bad_urls(served_repo, tmp_path):
    with pytest.raises(CloneError, match="no git repository at"):
        clone(CloneRequest(url=f"git://127.0.0.1:{served_repo.port}/missing.git", directory=tmp_path / "a"))
    with pytest.raises(CloneError, match="no git repository at"):
        clone(CloneRequest(url=f"file://{tmp_path}/missing.git", directory=tmp_path / "b"))
    for bad in ("", "  ", "--upload-pack=touch /tmp/x", "https://host/a b"):
        with pytest.raises(CloneError) as caught:
            clone(CloneRequest(url=bad, directory=tmp_path / "c"))
        assert "url" in caught.value.message.lower()


@pytest.mark.parametrize("ref", [{"branch": "--orphan"}, {"tag": "a b"}, {"commit": "-x"}, {"branch": ""}])
def test_ref_names_that_git_would_read_as_options_are_refused(served_repo, tmp_path, ref):
    with pytest.raises(CloneError, match="is not a valid (branch|tag|commit) name"):
        clone(CloneRequest(url=served_repo.file_url, directory=tmp_path / "c", **ref))
    assert not (tmp_path / "c").exists()


def test_existing_repository_in_the_directory_is_refused(served_repo, tmp_path):
    clone(CloneRequest(url=served_repo.file_url, directory=tmp_path / "c"))
    with pytest.raises(CloneError, match="already holds a git repository"):
        clone(CloneRequest(url=served_repo.file_url, directory=tmp_path / "c"))


class TestCredentials:
    """HTTP basic auth through GIT_ASKPASS: right ones clone, wrong ones fail, none leak."""

    USER, PASSWORD = "alice", "s3cr3t-Pa55word"

    @pytest.fixture
    def auth_server(self, tmp_path):
        base = tmp_path / "served"
        base.mkdir()
        history_repo(base)
        with basic_auth_git_http(base, self.USER, self.PASSWORD) as (port, seen):
            yield f"http://127.0.0.1:{port}/history.git", seen

    def test_right_credentials_clone_without_storing_the_password(self, auth_server, tmp_path):
        url, seen = auth_server
        result, lines = clone(CloneRequest(url=url, directory=tmp_path / "c", branch="main", depth=None,
                                           username=self.USER, password=self.PASSWORD))
        assert (tmp_path / "c" / "version.txt").read_text() == "v4\n"
        assert result.commit == head(tmp_path / "c")
        assert seen  # git really authenticated
        stored = "\n".join(p.read_text(errors="replace") for p in (tmp_path / "c" / ".git").rglob("*")
                           if p.is_file() and p.stat().st_size < 1_000_000)
        assert self.PASSWORD not in stored
        assert not any(self.PASSWORD in line for line in lines)

    def test_wrong_password_fails_clearly_and_masked(self, auth_server, tmp_path):
        url, _ = auth_server
        with pytest.raises(CloneError) as caught:
            clone(CloneRequest(url=url, directory=tmp_path / "c", depth=None,
                               username=self.USER, password="wrong-" + self.PASSWORD))
        assert caught.value.message.startswith(f"authentication failed for {url}")
        assert self.PASSWORD not in caught.value.message

    @HANG
    def test_missing_credentials_fail_instead_of_prompting(self, auth_server, tmp_path):
        url, _ = auth_server
        with pytest.raises(CloneError) as caught:
            clone(CloneRequest(url=url, directory=tmp_path / "c", depth=None))
        assert "needs credentials" in caught.value.message
        assert url in caught.value.message

    def test_password_in_the_url_is_masked_in_logs_and_errors(self, served_repo, tmp_path):
        url = f"http://bob:{self.PASSWORD}@127.0.0.1:{free_port()}/x.git"
        lines: list[str] = []
        with pytest.raises(CloneError) as caught:
            clone_repository(CloneRequest(url=url, directory=tmp_path / "c", password=self.PASSWORD),
                             lines.append)
        assert self.PASSWORD not in caught.value.message
        assert "bob:****@" in caught.value.message
        assert lines and not any(self.PASSWORD in line for line in lines)

    def test_password_never_appears_even_on_unknown_branch(self, served_repo, tmp_path):
        lines: list[str] = []
        with pytest.raises(CloneError) as caught:
            clone_repository(CloneRequest(url=served_repo.daemon_url, directory=tmp_path / "c",
                                          branch=f"x-{self.PASSWORD}", username=self.USER,
                                          password=self.PASSWORD), lines.append)
        assert self.PASSWORD not in caught.value.message
        assert not any(self.PASSWORD in line for line in lines)


def test_mask_secrets():
    assert mask_secrets("https://u:pw@h/x and pw", "pw") == "https://u:****@h/x and ****"
    assert mask_secrets("https://u:other@h/x", None) == "https://u:****@h/x"
    assert mask_secrets("https://h:8080/a@b", None) == "https://h:8080/a@b"
