"""Write docs/settings.md, the table of training settings, from their declarations on TrainConfig.

python tools/settings_table.py           # rewrite docs/settings.md
python tools/settings_table.py --check   # exit 1 when docs/settings.md is not what the declarations give
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ganzoo.training.config import settings_table

PAGE = Path(__file__).resolve().parent.parent / "docs" / "settings.md"
COMMAND = "python tools/settings_table.py"

HEAD = f"""# Training settings

Every setting a run records in its `config.json`, declared once on `TrainConfig` (ganzoo/training/config.py).
This page is written from those declarations by `{COMMAND}`; a test fails when it is out of date.

- **--set**: `ganzoo train --set KEY=VALUE` may change it (`lr` sets both learning rates; `arch.KEY`, `loss.KEY`,
  `data.KEY` set an option of the architecture, loss or data set).
- **--resume**: whether a resumed run may change it, or must repeat the run's own value.
- **--init-from**: whether a new run started from another run's weights keeps that run's value: always, under
  that run's own variant, on that run's data set, or never (afresh); a value given on the command line wins.
- **packaged**: a generator folder's `config.json` records it under `training` (always, or only when it is not the
  default).
- **default**: the value when neither the variant nor a flag gives one (— : the variant or the flag always does).

`ganzoo info VARIANT --kind variant --json` lists the same rows under `settings`, with the variant's own values as
defaults. From Python, `--set` is the `set` keyword, and a `ganzoo.TrainRequest` carries every flag at once:

```python
import ganzoo

request = ganzoo.TrainRequest("gan", data="ring", steps=200, set={{"eps": 1e-7, "lr": 2e-4}}, out="runs/ring-eps")
run = ganzoo.train(request)   # the same as ganzoo.train("gan", data="ring", steps=200, set=..., out=...)
print(run.config.eps, run.config.lr_g)   # 1e-07 0.0002
```

A new setting is one field of `TrainConfig` and its test. A setting of a variant's recipe is declared with
`recipe_setting(doc, default, check=..., optimizer=..., packaged=...)`, any other with `setting(...)`;
`{COMMAND}` then rewrites this page.

| setting | type | default | --set | flag | --resume | --init-from | optimiser keyword | packaged | what it is |
|---|---|---|---|---|---|---|---|---|---|
"""


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|")


def render() -> str:
    """The whole page, as the declarations give it."""
    from ganzoo.training.config import settings

    lines = []
    for row in settings_table():
        default = "—" if settings()[row["name"]].required else f"`{json.dumps(row['default'])}`"
        lines.append(
            "| "
            + " | ".join(
                _cell(v)
                for v in (
                    f"`{row['name']}`",
                    f"`{row['type']}`",
                    default,
                    "yes" if row["set"] else "",
                    f"`{row['flag']}`" if row["flag"] else "",
                    row["resume"],
                    row["init_from"],
                    f"`{row['optimizer']}`" if row["optimizer"] else "",
                    {"always": "yes", "not-default": "when not the default", "no": ""}[row["packaged"]],
                    row["doc"],
                )
            )
            + " |"
        )
    return HEAD + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/settings.md is stale; write nothing")
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != page:
            print(f"{PAGE} is out of date with TrainConfig's settings; regenerate it: {COMMAND}", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
