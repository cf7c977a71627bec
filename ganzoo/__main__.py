"""``python -m ganzoo``: the command line (and the entry torchrun uses)."""

from ganzoo.cli import run

if __name__ == "__main__":
    run()
