"""Users in the warehouse (both backends) and the checks of names, roles and passwords."""
import pytest

from cockpit import users


@pytest.mark.parametrize("name", ["", "a", "Admin", "1st", "a b", "张三", "x" * 33, "a;drop"])
def test_bad_names_are_refused(name):
    with pytest.raises(users.UserError, match="user name"):
        users.check_name(name)


def test_roles_and_password_lengths_are_checked():
    with pytest.raises(users.UserError, match="role 'root' is not one of wall, duty, leader, analyst, admin"):
        users.check_role("root")
    for bad in ("short", "x" * 257):
        with pytest.raises(users.UserError, match="10–256 characters"):
            users.check_password(bad)


def test_add_check_change_and_disable(warehouse):
    users.add(warehouse, "zhang.san", "duty", "correct horse battery", "张三")
    with pytest.raises(users.UserError, match="exists"):
        users.add(warehouse, "zhang.san", "admin", "another password")
    found = users.load(warehouse)["zhang.san"]
    assert (found.role, found.label, found.disabled) == ("duty", "张三", False)
    assert found.password_hash.startswith("scrypt:") and "correct horse" not in found.password_hash
    assert users.password_matches(found, "correct horse battery")
    assert not users.password_matches(found, "correct horse batterY")
    assert not users.password_matches(None, "correct horse battery")
    before = found.credential("password")

    users.set_password(warehouse, "zhang.san", "a brand new password")
    changed = users.load(warehouse)["zhang.san"]
    assert changed.credential("password") != before and users.password_matches(changed, "a brand new password")
    users.set_disabled(warehouse, "zhang.san")
    assert not users.password_matches(users.load(warehouse)["zhang.san"], "a brand new password")
    with pytest.raises(users.UserError, match="no user 'li'"):
        users.set_password(warehouse, "li", "correct horse battery")


def test_kiosk_tokens_are_stored_hashed_and_replaced(warehouse):
    users.put(warehouse, "wallpc", "wall", "correct horse battery")
    first = users.issue_token(warehouse, "wallpc")
    directory = users.Directory(warehouse, ttl=0)
    assert directory.by_token(first).name == "wallpc"
    assert users.load(warehouse)["wallpc"].token_hash == users.hash_token(first) != first
    second = users.issue_token(warehouse, "wallpc")
    assert directory.by_token(first) is None and directory.by_token(second).name == "wallpc"
    users.set_disabled(warehouse, "wallpc")
    assert directory.by_token(second) is None


def test_display_names_are_stored_as_plain_text(warehouse):
    users.add(warehouse, "li.si", "duty", "correct horse battery", display_name="  李\u202e四\x00\u200b\n值班 ")
    users.put(warehouse, "wang.wu", "leader", "correct horse battery", display_name="王\u2066五\x1b[31m")
    stored = users.load(warehouse)
    assert stored["li.si"].display_name == "李四 值班" and stored["wang.wu"].display_name == "王五[31m"
