"""A pytest plugin: MUTANT="module:function:text" drops the source lines holding ``text`` from
that function and puts the mutant in place wherever the function is imported (a mutation check)."""
import importlib
import inspect
import os
import sys
import textwrap


def pytest_configure(config):
    spec = os.environ.get("MUTANT")
    if not spec:
        return
    mod_name, func_name, text = spec.split(":", 2)
    mod = importlib.import_module(mod_name)
    func = getattr(mod, func_name)
    src = textwrap.dedent(inspect.getsource(func))
    lines: list[str | None] = list(src.split("\n"))
    kept: list[str] = []
    dropped: list[str] = []
    for i, line in enumerate(lines):
        if line is None:
            continue
        if text in line:
            # drop the whole statement: this line and its continuation lines
            depth = line.count("(") - line.count(")")
            dropped.append(line)
            kept.append(line[: len(line) - len(line.lstrip())] + "pass  # the mutant")
            j = i + 1
            while depth > 0 and j < len(lines):
                depth += lines[j].count("(") - lines[j].count(")")
                dropped.append(lines[j])
                lines[j] = None
                j += 1
            continue
        kept.append(line)
    assert dropped, f"{text!r} not in {func_name}"
    ns = dict(mod.__dict__)
    exec(compile("\n".join(kept), f"<mutant {func_name}>", "exec"), ns)
    mutant = ns[func_name]
    n = 0
    for m in list(sys.modules.values()):
        if m is not None and getattr(m, func_name, None) is func:
            setattr(m, func_name, mutant)
            n += 1
    print(f"\nMUTANT {mod_name}.{func_name}: dropped {dropped} (patched in {n} modules)")
