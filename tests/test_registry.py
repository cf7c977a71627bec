"""The registry: listing with wildcards, lookups with suggestions, name clashes and malformed entries."""

import pytest

import ganzoo
from ganzoo.errors import AmbiguousNameError, DuplicateNameError, PluginError, UnknownNameError
from ganzoo.registry import Entry, Registry, natural_key


def test_builtins_are_registered_by_their_plugins():
    assert set(ganzoo.list_variants()) >= {"gan", "gan-minimax", "dcgan", "wgan", "wgan-gp"}
    assert set(ganzoo.list_losses()) >= {"minimax", "nonsaturating", "wasserstein", "wgan-gp"}
    assert set(ganzoo.list_architectures()) >= {"mlp", "dcgan", "timm"}
    entry = ganzoo.entry("variant", "wgan-gp")
    assert (entry.plugin, entry.distribution) == ("wgan", "ganzoo")


def test_list_takes_fnmatch_wildcards_in_natural_order():
    assert ganzoo.list_variants("wgan*") == ["wgan", "wgan-gp"]
    assert ganzoo.list_variants("*minimax") == ["gan-minimax"]
    assert ganzoo.list_variants("nothing*") == []
    assert sorted(["gan10", "gan2", "gan1"], key=natural_key) == ["gan1", "gan2", "gan10"]


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownNameError, match="did you mean 'wgan-gp'"):
        ganzoo.get_variant("wgan_gp")
    with pytest.raises(UnknownNameError, match="unknown loss 'zzz'"):
        ganzoo.get_loss("zzz")


def _two_gans(*distributions):
    reg = Registry()
    variant = ganzoo.get_variant("gan")
    entries = [Entry("variant", "gan", variant, f"p{i}", dist, "1.0") for i, dist in enumerate(distributions)]
    for entry in entries:
        reg.add(entry)
    return reg, entries


def test_a_name_a_plugin_shares_with_a_builtin_is_the_builtins_and_both_are_reachable_qualified():
    reg, (builtin, other) = _two_gans("ganzoo", "ganzoo-copycat")
    assert reg.get("variant", "gan") is builtin
    assert reg.get("variant", "ganzoo:gan") is builtin
    assert reg.get("variant", "ganzoo-copycat:gan") is other
    assert reg.get("variant", "Ganzoo_Copycat:gan") is other  # distribution names compare as pip compares them
    assert [reg.name_for(e) for e in reg.list("variant")] == ["gan", "ganzoo-copycat:gan"]
    assert [reg.name_for(e) for e in reg.list("variant", "ganzoo-copycat:*")] == ["ganzoo-copycat:gan"]
    (clash,) = reg.clashes()
    assert clash.message() == (
        "variant 'gan' is registered by ganzoo 1.0 and ganzoo-copycat 1.0; plain 'gan' is ganzoo's; "
        "pick one with ganzoo train ganzoo:gan or ganzoo train ganzoo-copycat:gan"
    )


def test_a_name_only_plugins_share_is_ambiguous_and_refused_naming_the_qualified_names():
    reg, (first, second) = _two_gans("ganzoo-a", "ganzoo-b")
    with pytest.raises(
        AmbiguousNameError,
        match=r"variant 'gan' is registered by ganzoo-a and ganzoo-b; "
        r"name one: ganzoo train ganzoo-a:gan or ganzoo train ganzoo-b:gan",
    ):
        reg.get("variant", "gan")
    assert ("variant", "gan") in reg
    assert reg.get("variant", "ganzoo-b:gan") is second
    assert reg.get("variant", "gan", home="ganzoo-a") is first
    assert reg.pin("variant", "gan", home="ganzoo-a") == "ganzoo-a:gan"
    assert "plain 'gan' is ambiguous and refused" in reg.clashes()[0].message()


def test_one_distribution_registering_a_name_twice_is_refused():
    reg, _ = _two_gans("ganzoo-copycat")
    with pytest.raises(DuplicateNameError, match=r"registered twice by one distribution: p0 \(ganzoo-copycat 1.0\)"):
        reg.add(Entry("variant", "gan", ganzoo.get_variant("gan"), "p1", "ganzoo-copycat", "1.0"))


def test_malformed_registrations_name_the_plugin():
    reg = Registry()
    with pytest.raises(
        PluginError, match="plugin odd .*registered loss 'x' wrongly: expected a subclass of ganzoo.Loss"
    ):
        reg.add(Entry("loss", "x", object, "odd", "ganzoo-odd", "1"))
    with pytest.raises(PluginError, match="bad name"):
        reg.add(Entry("loss", "has space", ganzoo.get_loss("minimax"), "odd", "ganzoo-odd", "1"))
    with pytest.raises(PluginError, match="expected an instance of ganzoo.Variant"):
        reg.add(Entry("variant", "v", {"architecture": "mlp"}, "odd", "ganzoo-odd", "1"))


def test_arguments_after_a_colon_look_up_the_base_name():
    assert ganzoo.entry("dataset", "folder:/some/where").name == "folder"


def test_a_qualified_name_keeps_its_argument():
    from ganzoo.plugins import registry

    entry, argument = registry().resolve("dataset", "ganzoo:folder:/some/where")
    assert (entry.name, entry.distribution, argument) == ("folder", "ganzoo", "/some/where")
    assert registry().split("dataset", "ganzoo:folder:/a:b") == ("folder", "/a:b")
    assert registry().split("dataset", "folder:/a:b") == ("folder", "/a:b")
