"""Settings: defaults, YAML, ``COCKPIT_<SECTION>_<KEY>`` overrides, and the one-line errors of a bad config."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config.files import ConfigError
from config.settings import DEFAULT_PATH, KEYS, SECTIONS, load
from warehouse.migrations import MIGRATIONS

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = {k.dotted: k.default for k in KEYS}
URL_HINT = "use chdb:///PATH or clickhouse://user:pass@host:9000/db"


def write(tmp_path: Path, text: str, name: str = "cockpit.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path=None, environ=None) -> str:
    """The message of the ConfigError that loading raises, checked to be one line."""
    with pytest.raises(ConfigError) as caught:
        load(path, environ=environ if environ is not None else {})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("config error: ")
    return message


def values(settings) -> dict:
    return {k.dotted: getattr(getattr(settings, k.section), k.name) for k in KEYS}


# --- loading ------------------------------------------------------------------------------------------------------

def test_shipped_file_without_environment_gives_the_declared_defaults():
    settings = load(DEFAULT_PATH, environ={})
    assert values(settings) == DEFAULTS
    assert settings.cockpit.port == 8050 and settings.warehouse.url == "chdb:///./data/warehouse"


def test_empty_yaml_file_gives_the_declared_defaults(tmp_path):
    assert values(load(write(tmp_path, ""), environ={})) == DEFAULTS


def test_sections_read_by_attribute_and_by_key():
    settings = load(DEFAULT_PATH, environ={})
    assert settings.city["adcode"] == settings.city.adcode == "440100"
    assert dict(settings.log) == {"level": "INFO", "format": "text"}
    with pytest.raises(AttributeError):
        settings.cockpit.prot


def test_yaml_values_replace_the_defaults(tmp_path):
    path = write(tmp_path, "cockpit:\n  port: 8060\n  host: \" 0.0.0.0 \"\ningest:\n  batch_seconds: 2\n"
                           "log:\n  level: DEBUG\n")
    settings = load(path, environ={})
    assert settings.cockpit.port == 8060
    assert settings.cockpit.host == "0.0.0.0"
    assert settings.ingest.batch_seconds == 2.0 and type(settings.ingest.batch_seconds) is float
    assert settings.log.level == "DEBUG"
    assert settings.kafka.partitions == 3  # untouched keys keep their defaults


def test_environment_overrides_yaml_and_is_coerced_to_the_key_type(tmp_path):
    path = write(tmp_path, "cockpit:\n  port: 8060\n  refresh_seconds: 3.0\n")
    settings = load(path, environ={"COCKPIT_COCKPIT_PORT": "9000", "COCKPIT_COCKPIT_REFRESH_SECONDS": "2",
                                   "COCKPIT_INGEST_BATCH_SECONDS": "0.5", "COCKPIT_LOG_LEVEL": "WARNING",
                                   "COCKPIT_KAFKA_BOOTSTRAP": "broker-1:9092,broker-2:9092"})
    assert settings.cockpit.port == 9000 and type(settings.cockpit.port) is int
    assert settings.cockpit.refresh_seconds == 2.0 and type(settings.cockpit.refresh_seconds) is float
    assert settings.ingest.batch_seconds == 0.5
    assert settings.log.level == "WARNING"
    assert settings.kafka.bootstrap == "broker-1:9092,broker-2:9092"


def test_cockpit_config_variable_chooses_the_yaml_file(tmp_path):
    path = write(tmp_path, "simulate:\n  seed: 7\n")
    assert load(environ={"COCKPIT_CONFIG": str(path)}).simulate.seed == 7


def test_environment_variable_of_an_unknown_section_is_ignored():
    settings = load(DEFAULT_PATH, environ={"COCKPIT_TEST_REQUIRE_SERVERS": "1",
                                           "COCKPIT_TEST_CLICKHOUSE": "127.0.0.1:9000"})
    assert values(settings) == DEFAULTS


# --- the shipped file documents every key ------------------------------------------------------------------------

def test_every_key_and_its_environment_variable_are_documented_in_the_shipped_yaml():
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    for key in KEYS:
        kind = " | ".join(key.kind) if isinstance(key.kind, tuple) else key.kind.__name__
        assert re.search(rf"^  # {re.escape(key.help)} \[{re.escape(kind)}; {key.env}\]\n  {key.name}:", text,
                         re.MULTILINE), f"{key.dotted} is not documented with its help, type and {key.env}"
    for section in SECTIONS:
        assert re.search(rf"^{section}:$", text, re.MULTILINE)


def test_shipped_yaml_values_equal_the_declared_defaults():
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    flat = {f"{section}.{name}": value for section, body in doc.items() for name, value in body.items()}
    assert flat == DEFAULTS


# --- one line per failure, naming the key and where it came from ---------------------------------------------------

def test_unknown_section_is_named_with_the_file_and_the_known_sections(tmp_path):
    path = write(tmp_path, "database:\n  url: x\n")
    assert config_error(path) == (f"config error: {path}: unknown section 'database'; "
                                  "sections are warehouse, kafka, ingest, simulate, city, map, alerts, cockpit, auth, log")










YAML_ERRORS = [  # (file text, message after "config error: ", {path} = the file)
    ("cockpit:\n  prot: 8060\n", "{path}: unknown key 'cockpit.prot'; cockpit has host, port, workers, threads, "
     "refresh_seconds, slow_refresh_seconds, stale_warn_seconds, stale_alarm_seconds, lag_warn_messages, "
     "lag_alarm_messages, tile_url, tile_attribution"),
    ("cockpit: 8060\n", "{path}: section 'cockpit' must be a mapping"),
    ("- warehouse\n- kafka\n", "{path}: the top level must be a mapping of sections"),
    ("kafka:\n  partitions: 3\n  group_id: a: b\nlog:\n  level: INFO\n",
     "{path} line 3: invalid YAML: mapping values are not allowed here"),
    ('cockpit:\n  port: "abc"\n', "cockpit.port (from {path}): expected int, got 'abc'"),
    ('cockpit:\n  port: "8060"\n', "cockpit.port (from {path}): expected int, got '8060'"),
    ("kafka:\n  partitions: 2.5\n", "kafka.partitions (from {path}): expected int, got 2.5"),
    ("cockpit:\n  port: true\n", "cockpit.port (from {path}): expected int, got True"),
    ("ingest:\n  batch_seconds: false\n", "ingest.batch_seconds (from {path}): expected float, got False"),
    ("city:\n  adcode: 440100\n", "city.adcode (from {path}): expected str, got 440100"),
    ("kafka:\n  partitions: 0\n", "kafka.partitions (from {path}): 0 is below the minimum 1"),
    ("log:\n  level: LOUD\n", "log.level (from {path}): 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR"),
    ("kafka:\n  bootstrap: localhost\n", "kafka.bootstrap (from {path}): 'localhost' is not host:port"),
    ('city:\n  adcode: "4401"\n', "city.adcode (from {path}): '4401' is not a 6-digit adcode such as 440100"),
    ("city:\n  timezone: Mars/Olympus\n",
     "city.timezone (from {path}): unknown time zone 'Mars/Olympus'; use an IANA name such as Asia/Shanghai"),
]


@pytest.mark.parametrize("text, expected", YAML_ERRORS)
def test_bad_yaml_values_give_one_line_naming_key_and_file(tmp_path, text, expected):
    path = write(tmp_path, text)
    assert config_error(path) == "config error: " + expected.format(path=path)


ENV_ERRORS = [  # (variable, value, message after "config error: ")
    ("COCKPIT_COCKPIT_PORT", "abc", "cockpit.port (from COCKPIT_COCKPIT_PORT): expected int, got 'abc'"),
    ("COCKPIT_KAFKA_PARTITIONS", "2.5", "kafka.partitions (from COCKPIT_KAFKA_PARTITIONS): expected int, got '2.5'"),
    ("COCKPIT_INGEST_BATCH_SECONDS", "0.01",
     "ingest.batch_seconds (from COCKPIT_INGEST_BATCH_SECONDS): 0.01 is below the minimum 0.05"),
    ("COCKPIT_CITY_DEFAULT_CRS", "CGCS2000",
     "city.default_crs (from COCKPIT_CITY_DEFAULT_CRS): 'CGCS2000' is not one of GCJ02, WGS84, BD09"),
    ("COCKPIT_WAREHOUSE_URL", "mysql://x",
     f"warehouse.url (from COCKPIT_WAREHOUSE_URL): unsupported scheme 'mysql'; {URL_HINT}"),
    ("COCKPIT_KAFKA_BOOTSTRAP", "a:9092,b", "kafka.bootstrap (from COCKPIT_KAFKA_BOOTSTRAP): 'b' is not host:port"),
    ("COCKPIT_WAREHOUSE_FOO", "1", "unknown environment variable COCKPIT_WAREHOUSE_FOO; see config/cockpit.yaml for keys"),
]


@pytest.mark.parametrize("variable, value, expected", ENV_ERRORS)
def test_bad_environment_values_give_one_line_naming_key_and_variable(variable, value, expected):
    assert config_error(DEFAULT_PATH, {variable: value}) == "config error: " + expected


def test_quoted_number_in_a_yaml_file_named_like_an_environment_variable_is_still_rejected(tmp_path, monkeypatch):
    # Whether a value came from the environment must not depend on how the YAML file happens to be named.
    monkeypatch.chdir(tmp_path)
    write(tmp_path, 'cockpit:\n  port: "8060"\n', name="COCKPIT_site.yaml")
    assert config_error(Path("COCKPIT_site.yaml")) == (
        "config error: cockpit.port (from COCKPIT_site.yaml): expected int, got '8060'")














def test_broken_yaml_names_the_file_and_the_line_of_the_unclosed_bracket(tmp_path):
    path = write(tmp_path, "kafka:\n  partitions: 3\nwarehouse: [unclosed\n")
    message = config_error(path)
    assert message.startswith(f"config error: {path} line 3: invalid YAML: ")






def test_missing_config_file_given_explicitly_is_named(tmp_path):
    path = tmp_path / "nowhere.yaml"
    assert config_error(path) == f"config error: cannot read {path}: No such file or directory"




def test_alarm_threshold_below_the_warning_threshold_is_rejected():
    message = config_error(DEFAULT_PATH, {"COCKPIT_COCKPIT_STALE_ALARM_SECONDS": "60"})
    assert "cockpit.stale_alarm_seconds" in message and "cockpit.stale_warn_seconds" in message


# --- Settings.replace and redacted ---------------------------------------------------------------------------------

def test_replace_gives_a_changed_copy_and_leaves_the_original():
    settings = load(DEFAULT_PATH, environ={})
    changed = settings.replace(**{"cockpit.port": 8060, "ingest.batch_seconds": 2})
    assert changed.cockpit.port == 8060 and changed.ingest.batch_seconds == 2.0
    assert settings.cockpit.port == 8050


def test_replace_rejects_a_wrong_type():
    with pytest.raises(ConfigError, match=r"^config error: cockpit\.port \(from override\): expected int, got 'x'$"):
        load(DEFAULT_PATH, environ={}).replace(**{"cockpit.port": "x"})


def test_replace_rejects_a_value_below_the_minimum():
    with pytest.raises(ConfigError, match=r"^config error: kafka\.partitions \(from override\): 0 is below"):
        load(DEFAULT_PATH, environ={}).replace(**{"kafka.partitions": 0})


def test_replace_rejects_a_bad_warehouse_url():
    with pytest.raises(ConfigError, match=r"^config error: warehouse\.url \(from override\): unsupported scheme"):
        load(DEFAULT_PATH, environ={}).replace(**{"warehouse.url": "mysql://x"})


def test_replace_rejects_an_unknown_key_with_a_config_error():
    with pytest.raises(ConfigError, match=r"cockpit\.prot"):
        load(DEFAULT_PATH, environ={}).replace(**{"cockpit.prot": 8060})


def test_replace_rejects_an_alarm_threshold_below_the_warning_threshold():
    with pytest.raises(ConfigError, match=r"cockpit\.stale_alarm_seconds"):
        load(DEFAULT_PATH, environ={}).replace(**{"cockpit.stale_alarm_seconds": 60})


def test_redacted_masks_the_warehouse_password():
    settings = load(DEFAULT_PATH, environ={}).replace(
        **{"warehouse.url": "clickhouse://reader:s3cret@ch.internal:9000/city"})
    redacted = settings.redacted()
    assert redacted["warehouse.url"] == "clickhouse://reader:***@ch.internal:9000/city"
    assert "s3cret" not in repr(redacted)
    assert redacted["cockpit.port"] == 8050
    assert settings.warehouse.url == "clickhouse://reader:s3cret@ch.internal:9000/city"


# --- the command line --------------------------------------------------------------------------------------------

def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    environ.update(env)
    return subprocess.run([sys.executable, "run_cockpit.py", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


def assert_one_config_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("config error:")
    return lines[0]


def test_cli_with_a_bad_warehouse_url_prints_one_line_and_exits_2():
    line = assert_one_config_error_line(run_cli("migrate", COCKPIT_WAREHOUSE_URL="mysql://x"))
    assert line == (f"config error: warehouse.url (from COCKPIT_WAREHOUSE_URL): unsupported scheme 'mysql'; "
                    f"{URL_HINT}")


def test_cli_with_broken_yaml_names_the_file_and_exits_2(tmp_path):
    path = write(tmp_path, "warehouse: [unclosed\n")
    line = assert_one_config_error_line(run_cli("--config", str(path), "migrate"))
    assert line.startswith(f"config error: {path} line ")
    assert "invalid YAML" in line


def test_cli_with_an_unknown_key_names_it_and_exits_2(tmp_path):
    path = write(tmp_path, "cockpit:\n  prot: 8060\n")
    line = assert_one_config_error_line(run_cli("--config", str(path), "migrate"))
    assert line.startswith(f"config error: {path}: unknown key 'cockpit.prot'; cockpit has host, port")


def test_cli_migrate_on_a_fresh_chdb_directory_reaches_the_latest_schema_version(tmp_path):
    result = run_cli("migrate", COCKPIT_WAREHOUSE_URL=f"chdb://{tmp_path}/wh")
    assert result.returncode == 0, result.stderr
    latest = MIGRATIONS[-1][0]
    assert f"chdb://{tmp_path}/wh?database=cockpit: schema version {latest}" in result.stdout
    assert f"(applied {', '.join(str(v) for v, *_ in MIGRATIONS)})" in result.stdout


def test_shipped_yaml_is_the_documented_table():
    from config.settings import documented_yaml

    assert DEFAULT_PATH.read_text(encoding="utf-8") == documented_yaml(), \
        "regenerate: python -m config.settings > config/cockpit.yaml"


def test_readme_holds_the_table_of_keys():
    from config.settings import markdown_table
    from domain.paths import ROOT
    assert markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8"), \
        "README.md is stale: replace its table of keys with `python -m config.settings --markdown`"
