"""Locate or fetch the Apache Kafka jars that run the local cluster.

Order of preference:

1. ``$KAFKA_HOME`` -- an unpacked Kafka distribution the user already has.
2. A complete copy in the cache (``<cache>/kafka-<version>``), reused forever.
3. The official binary tarball from the Apache archive (checksum verified).
4. Maven Central via ``mvn dependency:copy-dependencies``, for machines that can reach
   Central (often through a corporate mirror) but not the Apache download sites.

Fetches go to a temporary directory that is renamed into place only once complete,
under a file lock, so a crash or two concurrent callers never leave a half cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from reconciler.local.kafka.errors import DistributionError
from reconciler.local.kafka.processes import run_captured

DEFAULT_KAFKA_VERSION = "3.9.1"
SCALA_VERSION = "2.13"
MARKER_FILE = ".reconciler-complete"
DOWNLOAD_TIMEOUT = 5.0
"""Seconds for connecting (and for each read); short so offline machines fall back fast."""
MAVEN_TIMEOUT = 900.0
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_CORE_JAR_RE = re.compile(rf"^kafka_{re.escape(SCALA_VERSION)}-(\d+\.\d+\.\d+)\.jar$")

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Root of everything the reconciler caches (Kafka jars, local cluster state)."""
    explicit = os.environ.get("RECONCILER_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "reconciler"


def tarball_urls(version: str) -> list[str]:
    """Official locations of the binary tarball; the archive keeps every release."""
    name = f"kafka_{SCALA_VERSION}-{version}.tgz"
    return [
        f"https://archive.apache.org/dist/kafka/{version}/{name}",
        f"https://downloads.apache.org/kafka/{version}/{name}",
    ]


def classpath(dist: Path) -> str:
    """The ``-cp`` argument for a distribution returned by :func:`ensure_distribution`."""
    return str(dist / "libs" / "*")


def distribution_version(dist: Path) -> str | None:
    """Kafka version of a distribution, read from its core jar name (``kafka_2.13-X.jar``)."""
    libs = dist / "libs"
    if not libs.is_dir():
        return None
    for jar in sorted(libs.iterdir()):
        match = _CORE_JAR_RE.match(jar.name)
        if match:
            return match.group(1)
    return None


def find_java() -> str:
    """Path of the ``java`` executable (``$JAVA_HOME`` first, like Kafka's own scripts)."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("java")
    if found:
        return found
    raise DistributionError(
        "No Java runtime found: install Java 17 or newer (for example "
        "`apt-get install openjdk-17-jre-headless` or `brew install openjdk@17`) "
        "or set JAVA_HOME."
    )


def ensure_distribution(
    version: str = DEFAULT_KAFKA_VERSION,
    *,
    urls: Sequence[str] | None = None,
) -> Path:
    """Return a directory whose ``libs/`` holds a runnable Kafka broker classpath.

    ``urls`` overrides the tarball locations (tests use ``file://`` URLs; an empty list
    goes straight to Maven).
    """
    if not _VERSION_RE.match(version):
        raise DistributionError(f"Kafka version must look like 3.9.1, got {version!r}.")

    kafka_home = os.environ.get("KAFKA_HOME")
    if kafka_home:
        return _use_kafka_home(Path(kafka_home).expanduser(), version)

    root = cache_dir()
    target = root / f"kafka-{version}"
    if _is_complete(target):
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DistributionError(
            f"Cannot create the cache directory {root}: {exc}. "
            "Set RECONCILER_CACHE_DIR to a writable directory."
        ) from exc

    with _locked(root / f"kafka-{version}.lock"):
        if _is_complete(target):  # another process finished while we waited
            return target
        if target.exists():  # incomplete leftover (e.g. copied by hand): start over
            shutil.rmtree(target)
        _fetch(version, target, tarball_urls(version) if urls is None else list(urls))
    return target


def _use_kafka_home(home: Path, version: str) -> Path:
    if not (home / "libs").is_dir():
        raise DistributionError(
            f"KAFKA_HOME={home} has no libs/ directory. Point KAFKA_HOME at an unpacked "
            "Kafka distribution (the directory containing bin/ and libs/), or unset it to "
            "let the reconciler fetch Kafka itself."
        )
    found = distribution_version(home)
    if found is None:
        raise DistributionError(
            f"KAFKA_HOME={home}/libs contains no kafka_{SCALA_VERSION}-<version>.jar; "
            "is it a Kafka distribution built for Scala 2.13?"
        )
    if found != version:
        log.warning("Using Kafka %s from KAFKA_HOME=%s (requested %s).", found, home, version)
    return home


def _is_complete(path: Path) -> bool:
    return (path / MARKER_FILE).is_file() and (path / "libs").is_dir()


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock; released by the OS even if we crash."""
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fetch(version: str, target: Path, urls: Sequence[str]) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".kafka-{version}-", dir=target.parent))
    try:
        problems: list[str] = []
        for url in urls:
            try:
                dist = _from_tarball(url, version, staging)
            except (OSError, urllib.error.URLError, tarfile.TarError, DistributionError) as exc:
                log.info("Kafka tarball unavailable from %s: %s", url, exc)
                problems.append(f"{url}: {exc}")
                continue
            _commit(dist, target)
            return
        log.info("Fetching Kafka %s jars from Maven Central with mvn", version)
        try:
            dist = _from_maven(version, staging)
        except DistributionError as exc:
            tried = "".join(f"\n  {p}" for p in problems)
            raise DistributionError(
                f"Could not obtain Kafka {version}.{tried}\n{exc}\n"
                "Fix: install Maven (with access to Maven Central or a mirror), or download "
                f"kafka_{SCALA_VERSION}-{version}.tgz yourself, unpack it and set KAFKA_HOME "
                "to the unpacked directory."
            ) from exc
        _commit(dist, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _commit(dist: Path, target: Path) -> None:
    """Mark complete, then rename into place: readers see nothing or everything."""
    (dist / MARKER_FILE).write_text("ok\n")
    dist.rename(target)
    log.info("Kafka distribution ready in %s", target)


def _from_tarball(url: str, version: str, staging: Path) -> Path:
    log.info("Downloading %s", url)
    archive = staging / "kafka.tgz"
    with (
        urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response,
        archive.open("wb") as out,
    ):
        shutil.copyfileobj(response, out, length=1 << 20)
    expected = _expected_sha512(url)
    digest = hashlib.sha512()
    with archive.open("rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        raise DistributionError(f"SHA-512 mismatch for {url}")

    unpacked = staging / "unpacked"
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
            tar.extractall(unpacked, filter="data")
        else:
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if (
                    member.name.startswith("/")
                    or ".." in parts
                    or not (member.isfile() or member.isdir())
                ):
                    raise DistributionError(f"{url}: refusing to unpack {member.name!r}")
            tar.extractall(unpacked)  # members checked above
    archive.unlink()
    top = unpacked / f"kafka_{SCALA_VERSION}-{version}"
    if distribution_version(top) != version:
        raise DistributionError(f"{url} does not contain {top.name}/libs with the Kafka jars")
    return top


def _expected_sha512(url: str) -> str:
    """Parse Apache's ``.sha512`` file (either ``name: AB CD ...`` or ``hex  name``)."""
    with urllib.request.urlopen(url + ".sha512", timeout=DOWNLOAD_TIMEOUT) as response:
        text = response.read(1 << 16).decode("ascii", "replace")
    body = text.split(":", 1)[1] if ":" in text else text.split()[0] if text.split() else ""
    hexdigest = "".join(body.split()).lower()
    if not re.fullmatch(r"[0-9a-f]{128}", hexdigest):
        raise DistributionError(f"Unreadable checksum file {url}.sha512")
    return hexdigest


def _maven_pom(version: str) -> str:
    # The broker jar plus kafka-tools (CLI tools) and an SLF4J binding so the broker logs
    # through log4j like the binary distribution does.
    deps = [
        ("org.apache.kafka", f"kafka_{SCALA_VERSION}", version),
        ("org.apache.kafka", "kafka-tools", version),
        ("org.slf4j", "slf4j-reload4j", "1.7.36"),
    ]
    if int(version.split(".", maxsplit=1)[0]) >= 4:  # Kafka 4 moved to log4j2
        deps[2] = ("org.apache.logging.log4j", "log4j-slf4j-impl", "2.24.3")
    dependencies = "\n".join(
        f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId>"
        f"<version>{v}</version></dependency>"
        for g, a, v in deps
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by msk-reconciler: resolves a runnable Kafka {version} broker classpath. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.reconciler</groupId>
  <artifactId>kafka-distribution</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
{dependencies}
  </dependencies>
</project>
"""


def _from_maven(version: str, staging: Path) -> Path:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise DistributionError("Maven (`mvn`) is not installed or not on PATH.")
    dist = staging / "maven"
    dist.mkdir()
    (dist / "pom.xml").write_text(_maven_pom(version))
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(dist / "pom.xml"),
        f"{MAVEN_DEPENDENCY_PLUGIN}:copy-dependencies",
        f"-DoutputDirectory={dist / 'libs'}",
        "-DincludeScope=runtime",
    ]
    try:
        result = run_captured(command, dist, timeout=MAVEN_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise DistributionError(f"`mvn` did not finish within {MAVEN_TIMEOUT:.0f}s.") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        tail = "\n".join(output[-20:])
        raise DistributionError(f"`{' '.join(command)}` failed ({result.returncode}):\n{tail}")
    if distribution_version(dist) != version:
        raise DistributionError(f"mvn finished but {dist / 'libs'} has no Kafka {version} jar.")
    return dist
