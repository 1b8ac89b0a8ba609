#!/usr/bin/env python3
"""Evaluates greeter's Tiltfile offline and prints every Tilt call it made as JSON.

Tilt cannot run here (no Docker engine, no cluster), but a Tiltfile is Starlark,
which is close enough to Python to exec() against recorded stand-ins for the
Tilt built-ins. helm() really runs `helm template` (so tests see the objects
Tilt would apply); local() and anything that would touch a cluster only
records. Starlark-only rules that Python would accept silently (no while, no
f-strings, no imports, ...) are checked on the syntax tree first, so a Tiltfile
that passes here does not fail to parse in Tilt.

usage: eval_tiltfile.py [--tiltfile PATH] [--context NAME] [-- TILT_ARGS...]
TILT_ARGS are what `tilt up -- ARGS` would pass to config.parse().
Stdlib only, plus PyYAML when present (else YAML goes through node + the
repository's `yaml` package).
"""

import ast
import json
import os
import subprocess
import sys


class TiltfileError(Exception):
    """fail() in the Tiltfile, or a call the real Tilt would reject."""


class Blob(str):
    """Tilt's Blob: text with a type of its own (k8s_yaml accepts it as YAML, not a path)."""


# --- YAML -------------------------------------------------------------------

try:
    import yaml as _pyyaml  # type: ignore
except ImportError:  # pragma: no cover - depends on the machine
    _pyyaml = None


def _node_yaml(script, text):
    """YAML through node and the repository's `yaml` package (when PyYAML is missing)."""
    out = subprocess.run(["node", "-e", script], input=text, capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    return out.stdout


def yaml_load_all(text):
    if _pyyaml is not None:
        return [d for d in _pyyaml.safe_load_all(text) if d is not None]
    js = (
        "const Y=require('yaml');let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{"
        "process.stdout.write(JSON.stringify(Y.parseAllDocuments(s).map(d=>d.toJSON()).filter(d=>d!=null)))})"
    )
    return json.loads(_node_yaml(js, text))


def yaml_dump_all(docs):
    if _pyyaml is not None:
        return _pyyaml.safe_dump_all(docs, sort_keys=False)
    js = (
        "const Y=require('yaml');let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{"
        "process.stdout.write(JSON.parse(s).map(d=>Y.stringify(d)).join('---\\n'))})"
    )
    return _node_yaml(js, json.dumps(docs))


# --- Starlark subset check --------------------------------------------------

_NOT_STARLARK = {
    ast.Import: "import",
    ast.ImportFrom: "from ... import",
    ast.While: "while loops",
    ast.Try: "try/except",
    ast.ClassDef: "classes",
    ast.With: "with blocks",
    ast.Global: "global",
    ast.Nonlocal: "nonlocal",
    ast.JoinedStr: "f-strings",
    ast.Yield: "generators",
    ast.YieldFrom: "generators",
    ast.Raise: "raise (use fail())",
    ast.Assert: "assert (use fail())",
    ast.Set: "set literals",
    ast.SetComp: "set comprehensions",
    ast.GeneratorExp: "generator expressions",
    ast.Await: "await",
    ast.AsyncFunctionDef: "async",
    ast.Delete: "del",
    ast.Starred: "starred expressions",
    ast.NamedExpr: "walrus",
}


def check_starlark(tree, path):
    problems = []
    for node in ast.walk(tree):
        for kind, what in _NOT_STARLARK.items():
            if isinstance(node, kind):
                problems.append("%s:%d: %s are not Starlark" % (path, node.lineno, what))
        if isinstance(node, ast.Compare) and len(node.ops) > 1:
            problems.append("%s:%d: chained comparisons are not Starlark" % (path, node.lineno))
        if isinstance(node, (ast.Is, ast.IsNot)):
            problems.append("%s: `is` is not Starlark" % path)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "load":
            if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args):
                problems.append("%s:%d: load() takes string literals only" % (path, node.lineno))
    if problems:
        raise TiltfileError("\n".join(problems))


# --- the recording Tilt API ----------------------------------------------------

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Recorder:
    def __init__(self, tilt_args, context):
        self.tilt_args = tilt_args
        self.context = context
        self.out = {
            "tilt_args": tilt_args,
            "config": {"definitions": {}, "values": {}},
            "loads": [],
            "docker_builds": [],
            "helm": [],
            "k8s_yaml": [],
            "objects": [],
            "k8s_resources": [],
            "local_resources": [],
            "helm_resources": [],
            "helm_repos": [],
            "local_calls": [],
            "watch_files": [],
            "settings": {},
            "warnings": [],
            "prints": [],
        }
        self.globals = {}

    # config ---------------------------------------------------------------
    def _define(self, kind):
        def define(name, args=False, usage=""):
            self.out["config"]["definitions"][name] = {"type": kind, "args": args, "usage": usage}

        return define

    def _parse(self):
        defs = self.out["config"]["definitions"]
        values = {}
        for raw in self.tilt_args:
            if not raw.startswith("--"):
                raise TiltfileError("positional Tilt arg %r: greeter defines none" % raw)
            key, eq, val = raw[2:].partition("=")
            if key not in defs:
                raise TiltfileError("unknown Tilt arg --%s (defined: %s)" % (key, ", ".join(sorted(defs))))
            kind = defs[key]["type"]
            if kind == "bool":
                if eq and val not in ("true", "false"):
                    raise TiltfileError("--%s wants true or false, got %r" % (key, val))
                values[key] = (val != "false") if eq else True
            elif kind == "string":
                if not eq:
                    raise TiltfileError("--%s needs a value" % key)
                values[key] = val
            else:
                values.setdefault(key, []).append(val)
        self.out["config"]["values"] = values
        return dict(values)

    # k8s --------------------------------------------------------------------
    def _objects_from(self, source):
        if isinstance(source, Blob):
            return yaml_load_all(str(source))
        paths = source if isinstance(source, list) else [source]
        docs = []
        for p in paths:
            if isinstance(p, Blob):
                docs.extend(yaml_load_all(str(p)))
                continue
            if not os.path.isfile(p):
                raise TiltfileError("k8s_yaml: no such file %s" % p)
            with open(p, encoding="utf-8") as fh:
                docs.extend(yaml_load_all(fh.read()))
        return docs

    def k8s_yaml(self, yaml, allow_duplicates=False):
        docs = self._objects_from(yaml)
        origin = "blob" if isinstance(yaml, Blob) else yaml
        self.out["k8s_yaml"].append({"source": origin, "count": len(docs)})
        for d in docs:
            if not isinstance(d, dict) or "kind" not in d:
                raise TiltfileError("k8s_yaml: a document without kind in %s" % origin)
            self.out["objects"].append(d)

    def helm(self, paths, name="", namespace="", values=None, set=None, kube_version="", skip_crds=False):
        values = list(values or [])
        sets = list(set or [])
        args = ["helm", "template", name or "chart", paths]
        if namespace:
            args += ["--namespace", namespace]
        for v in values:
            args += ["--values", v]
        for s in sets:
            args += ["--set", s]
        if kube_version:
            args += ["--kube-version", kube_version]
        if skip_crds:
            args.append("--skip-crds")
        record = {"chart": paths, "name": name, "namespace": namespace, "values": values, "set": sets, "argv": args}
        self.out["helm"].append(record)
        if not os.path.isdir(paths):
            raise TiltfileError("helm(): chart directory %s does not exist" % paths)
        try:
            done = subprocess.run(args, capture_output=True, text=True)
        except FileNotFoundError:
            raise TiltfileError("helm(): the helm binary is not on PATH (run scripts/bootstrap.sh)")
        if done.returncode != 0:
            raise TiltfileError("helm(): %s failed:\n%s" % (" ".join(args), done.stderr.strip()))
        return Blob(done.stdout)

    def k8s_resource(self, workload="", new_name="", port_forwards=None, extra_pod_selectors=None, trigger_mode=None,
                     resource_deps=None, objects=None, auto_init=True, pod_readiness="", links=None, labels=None,
                     discovery_strategy=""):
        self.out["k8s_resources"].append({
            "workload": workload,
            "new_name": new_name,
            "port_forwards": _as_list(port_forwards),
            "resource_deps": list(resource_deps or []),
            "objects": list(objects or []),
            "auto_init": auto_init,
            "trigger_mode": trigger_mode,
            "pod_readiness": pod_readiness,
            "links": _as_list(links),
            "labels": _as_list(labels),
        })

    # images -----------------------------------------------------------------
    def docker_build(self, ref, context, build_args=None, dockerfile="Dockerfile", dockerfile_contents="",
                     live_update=None, match_in_env_vars=False, ignore=None, only=None, entrypoint=None, target="",
                     ssh="", network="", secret="", extra_tag="", container_args=None, cache_from=None, pull=False,
                     platform="", extra_hosts=None):
        self.out["docker_builds"].append({
            "ref": ref, "context": context, "dockerfile": dockerfile, "target": target,
            "build_args": dict(build_args or {}), "live_update": list(live_update or []),
            "entrypoint": entrypoint, "only": _as_list(only), "ignore": _as_list(ignore),
            "with_restart": False,
        })

    def docker_build_with_restart(self, ref, context, entrypoint, live_update, base_suffix="-base",
                                  restart_file="/tmp/.restart-proc", trigger=None, exit_policy="restart", **kwargs):
        if not live_update:
            raise TiltfileError("docker_build_with_restart(%s) requires at least one live_update step" % ref)
        for step in live_update:
            if step.get("type") == "restart_container":
                raise TiltfileError("docker_build_with_restart(%s) cannot take restart_container()" % ref)
        self.docker_build(ref, context, live_update=live_update, entrypoint=entrypoint, **kwargs)
        b = self.out["docker_builds"][-1]
        b["with_restart"] = True
        b["restart_file"] = restart_file
        b["restart_trigger"] = _as_list(trigger)

    # resources --------------------------------------------------------------
    def local_resource(self, name, cmd="", deps=None, trigger_mode=None, resource_deps=None, ignore=None,
                       auto_init=True, serve_cmd="", cmd_bat="", serve_cmd_bat="", allow_parallel=False, links=None,
                       tags=None, env=None, serve_env=None, readiness_probe=None, dir="", serve_dir="", labels=None):
        self.out["local_resources"].append({
            "name": name, "cmd": _cmd(cmd), "serve_cmd": _cmd(serve_cmd), "deps": _as_list(deps),
            "trigger_mode": trigger_mode, "resource_deps": list(resource_deps or []), "auto_init": auto_init,
            "links": _as_list(links), "labels": _as_list(labels), "env": dict(env or {}),
            "readiness_probe": readiness_probe, "allow_parallel": allow_parallel,
        })

    def helm_resource(self, name, chart, deps=None, release_name="", namespace=None, image_deps=None,
                      image_keys=None, flags=None, image_selector="", container_selector="", live_update=None,
                      resource_deps=None, labels=None, port_forwards=None, auto_init=True, pod_readiness="",
                      update_dependencies=False):
        if len(image_deps or []) != len(image_keys or []):
            raise TiltfileError("helm_resource(%s): image_deps and image_keys differ in length" % name)
        self.out["helm_resources"].append({
            "name": name, "chart": chart, "release_name": release_name or name, "namespace": namespace or "",
            "flags": list(flags or []), "deps": _as_list(deps), "resource_deps": list(resource_deps or []),
            "labels": _as_list(labels), "port_forwards": _as_list(port_forwards), "auto_init": auto_init,
            "pod_readiness": pod_readiness,
        })

    def helm_repo(self, name, url, resource_name="", username="", password="", **kwargs):
        self.out["helm_repos"].append({"name": name, "url": url, "resource_name": resource_name or name,
                                       "labels": _as_list(kwargs.get("labels"))})

    # misc -------------------------------------------------------------------
    def load(self, module, *names, **aliases):
        self.out["loads"].append({"module": module, "names": list(names) + list(aliases.values())})
        provided = {
            "ext://helm_resource": {"helm_resource": self.helm_resource, "helm_repo": self.helm_repo},
            "ext://restart_process": {"docker_build_with_restart": self.docker_build_with_restart},
        }
        if module not in provided:
            raise TiltfileError("load(%r): the evaluator has no stand-in for this extension" % module)
        for n in names:
            if n not in provided[module]:
                raise TiltfileError("load(%r): extension has no symbol %r" % (module, n))
            self.globals[n] = provided[module][n]
        for alias, n in aliases.items():
            self.globals[alias] = provided[module][n]

    def local(self, command, quiet=False, command_bat="", echo_off=False, env=None, dir="", stdin=None):
        # Never run: a Tiltfile's local() may talk to a cluster or write files.
        self.out["local_calls"].append({"cmd": _cmd(command), "env": dict(env or {})})
        return Blob("evaluator-stub")

    def read_file(self, path, default=None):
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                return Blob(fh.read())
        if default is None:
            raise TiltfileError("read_file: no such file %s" % path)
        return Blob(default)

    def fail(self, msg):
        raise TiltfileError("fail(): %s" % msg)

    def build_globals(self):
        rec = self

        class _Config:
            define_string = staticmethod(rec._define("string"))
            define_bool = staticmethod(rec._define("bool"))
            define_string_list = staticmethod(rec._define("string_list"))
            parse = staticmethod(rec._parse)
            main_dir = REPO_ROOT
            tilt_subcommand = "up"

            @staticmethod
            def set_enabled_resources(resources):
                rec.out["settings"]["enabled_resources"] = list(resources)

        class _Path:
            exists = staticmethod(os.path.exists)
            join = staticmethod(os.path.join)
            abspath = staticmethod(os.path.abspath)
            basename = staticmethod(os.path.basename)
            dirname = staticmethod(os.path.dirname)
            realpath = staticmethod(os.path.realpath)

        class _Os:
            path = _Path
            name = "posix"
            environ = dict(os.environ)
            getcwd = staticmethod(os.getcwd)

            @staticmethod
            def getenv(key, default=None):
                return os.environ.get(key, default)

        def record_setting(key):
            def f(*args, **kwargs):
                rec.out["settings"][key] = {"args": list(args), "kwargs": kwargs}
            return f

        g = {
            "__builtins__": {
                "True": True, "False": False, "None": None, "len": len, "str": str, "int": int, "bool": bool,
                "list": list, "dict": dict, "range": range, "sorted": sorted, "enumerate": enumerate, "zip": zip,
                "any": any, "all": all, "min": min, "max": max, "hasattr": hasattr, "getattr": getattr,
                "reversed": reversed, "tuple": tuple, "type": lambda x: _starlark_type(x), "repr": repr,
                "print": lambda *a: rec.out["prints"].append(" ".join(str(x) for x in a)),
            },
            "config": _Config,
            "os": _Os,
            "load": self.load,
            "fail": self.fail,
            "warn": lambda msg: rec.out["warnings"].append(msg),
            "blob": Blob,
            "read_file": self.read_file,
            "read_yaml": lambda path, default=None: (yaml_load_all(self.read_file(path)) or [default])[0],
            "read_json": lambda path, default=None: json.loads(self.read_file(path)),
            "decode_yaml_stream": lambda b: yaml_load_all(str(b)),
            "decode_yaml": lambda b: yaml_load_all(str(b))[0],
            "encode_yaml_stream": lambda docs: Blob(yaml_dump_all(docs)),
            "encode_yaml": lambda doc: Blob(yaml_dump_all([doc])),
            "decode_json": lambda b: json.loads(str(b)),
            "encode_json": lambda o: Blob(json.dumps(o)),
            "local": self.local,
            "listdir": lambda d, recursive=False: sorted(os.path.join(d, f) for f in os.listdir(d)),
            "watch_file": lambda p: rec.out["watch_files"].append(p),
            "docker_build": self.docker_build,
            "k8s_yaml": self.k8s_yaml,
            "helm": self.helm,
            "k8s_resource": self.k8s_resource,
            "local_resource": self.local_resource,
            "k8s_context": lambda: rec.context,
            "k8s_namespace": lambda: "default",
            "allow_k8s_contexts": record_setting("allow_k8s_contexts"),
            "update_settings": record_setting("update_settings"),
            "version_settings": record_setting("version_settings"),
            "ci_settings": record_setting("ci_settings"),
            "secret_settings": record_setting("secret_settings"),
            "default_registry": record_setting("default_registry"),
            "sync": lambda local_path, remote_path: {"type": "sync", "local": local_path, "remote": remote_path},
            "run": lambda cmd, trigger=None, echo_off=False: {"type": "run", "cmd": _cmd(cmd),
                                                              "trigger": _as_list(trigger)},
            "fall_back_on": lambda files: {"type": "fall_back_on", "files": _as_list(files)},
            "initial_sync": lambda: {"type": "initial_sync"},
            "restart_container": lambda: {"type": "restart_container"},
            "port_forward": lambda local_port, container_port=None, name=None, link_path=None, host=None: {
                "local_port": local_port, "container_port": container_port or local_port, "name": name,
                "link_path": link_path, "host": host},
            "link": lambda url, name="": {"url": url, "name": name},
            "probe": lambda **kw: dict(kw, type="probe"),
            "http_get_action": lambda port, host="localhost", scheme="http", path="": {
                "port": port, "host": host, "scheme": scheme, "path": path},
            "tcp_socket_action": lambda port, host="localhost": {"port": port, "host": host},
            "exec_action": lambda command: {"command": command},
            "TRIGGER_MODE_AUTO": "auto",
            "TRIGGER_MODE_MANUAL": "manual",
        }
        self.globals = g
        return g


def _starlark_type(x):
    if isinstance(x, str):
        return "string"
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, int):
        return "int"
    if isinstance(x, list):
        return "list"
    if isinstance(x, dict):
        return "dict"
    if isinstance(x, tuple):
        return "tuple"
    if x is None:
        return "NoneType"
    return "function"


def _as_list(v):
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _cmd(c):
    if isinstance(c, (list, tuple)):
        return [str(x) for x in c]
    return str(c)


def main(argv):
    tiltfile = os.path.join(REPO_ROOT, "Tiltfile")
    context = "kind-greeter"
    tilt_args = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            tilt_args = argv[i + 1:]
            break
        if a == "--tiltfile":
            tiltfile = os.path.abspath(argv[i + 1])
            i += 2
            continue
        if a == "--context":
            context = argv[i + 1]
            i += 2
            continue
        sys.stderr.write("eval_tiltfile: unknown argument %s\n" % a)
        return 2
    rec = Recorder(tilt_args, context)
    try:
        with open(tiltfile, encoding="utf-8") as fh:
            source = fh.read()
        tree = ast.parse(source, tiltfile)
        check_starlark(tree, tiltfile)
        os.chdir(os.path.dirname(tiltfile))
        exec(compile(tree, tiltfile, "exec"), rec.build_globals())
    except TiltfileError as err:
        print(json.dumps({"error": str(err), "partial": rec.out}))
        return 1
    print(json.dumps(rec.out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
