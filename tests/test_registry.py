"""The registry: listing with wildcards, lookups with suggestions, duplicates and malformed entries."""

import pytest

import ganzoo
from ganzoo.errors import DuplicateNameError, PluginError, UnknownNameError
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


def test_a_name_registered_twice_names_both_plugins():
    reg = Registry()
    variant = ganzoo.get_variant("gan")
    reg.add(Entry("variant", "gan", variant, "vanilla", "ganzoo", "0.1.0"))
    with pytest.raises(DuplicateNameError, match=r"vanilla \(ganzoo 0.1.0\) and copycat \(ganzoo-copycat 1.0\)"):
        reg.add(Entry("variant", "gan", variant, "copycat", "ganzoo-copycat", "1.0"))


def test_malformed_registrations_name_the_plugin():
    reg = Registry()
    with pytest.raises(PluginError, match="plugin odd .*registered loss 'x' wrongly: expected a subclass of ganzoo.Loss"):
        reg.add(Entry("loss", "x", object, "odd", "ganzoo-odd", "1"))
    with pytest.raises(PluginError, match="bad name"):
        reg.add(Entry("loss", "has space", ganzoo.get_loss("minimax"), "odd", "ganzoo-odd", "1"))
    with pytest.raises(PluginError, match="expected an instance of ganzoo.Variant"):
        reg.add(Entry("variant", "v", {"architecture": "mlp"}, "odd", "ganzoo-odd", "1"))


def test_arguments_after_a_colon_look_up_the_base_name():
    assert ganzoo.entry("dataset", "folder:/some/where").name == "folder"
