"""Mirror the repo's git-visible files into the tree ansible-test runs from.

    sync_collection.py REPO DEST

ansible-test must run from .../ansible_collections/strata/storage. A symlink to the repo does
not work (ansible-test takes os.getcwd(), which resolves symlinks, and its --venv delegation
re-derives the root from it), and a tree of file symlinks does not either (sanity skips
symlinked files). So DEST is a real copy of exactly the files git would show (tracked and
untracked, minus .gitignore'd ones), updated in place: unchanged files are left alone,
removed ones are deleted, tests/output/ (ansible-test's own venvs and results) is kept.
DEST gets its own empty git repository so that ansible-test lists files with git there
instead of climbing to the parent repo (which ignores .cache/ and would find nothing).
"""

import os
import shutil
import subprocess
import sys

KEEP = ('.git', 'tests/output')
# never copied even if not gitignored: our caches, molecule's/ansible-lint's project cache
SKIP_TOP = ('.cache', '.ansible', '.git')


def repo_files(repo):
    try:
        out = subprocess.run(
            ['git', '-C', repo, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
            check=True, stdout=subprocess.PIPE).stdout.decode('utf-8', 'surrogateescape')
        names = [n for n in out.split('\0') if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for root, dirs, files in os.walk(repo):
            rel = os.path.relpath(root, repo)
            dirs[:] = [d for d in dirs if d not in SKIP_TOP + ('__pycache__',)
                       and os.path.normpath(os.path.join(rel, d)) != 'tests/output']
            names.extend(os.path.normpath(os.path.join(rel, f)) for f in files)
    return sorted(n for n in set(names) if os.path.lexists(os.path.join(repo, n)))


def same(src, dst):
    try:
        a, b = os.lstat(src), os.lstat(dst)
    except FileNotFoundError:
        return False
    if os.path.islink(src) or os.path.islink(dst):
        return os.path.islink(src) and os.path.islink(dst) and os.readlink(src) == os.readlink(dst)
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime) and a.st_mode == b.st_mode


def kept(rel):
    return any(rel == k or rel.startswith(k + '/') for k in KEEP)


def main(repo, dest):
    repo, dest = os.path.abspath(repo), os.path.abspath(dest)
    wanted = [n for n in repo_files(repo) if n.split('/', 1)[0] not in SKIP_TOP]
    wanted_set = set(wanted)
    os.makedirs(dest, exist_ok=True)
    copied = removed = 0
    for rel in wanted:
        if rel.split('/', 1)[0] in SKIP_TOP:
            continue
        src, dst = os.path.join(repo, rel), os.path.join(dest, rel)
        if same(src, dst):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst) or os.path.isdir(dst):
            if os.path.isdir(dst) and not os.path.islink(dst):
                shutil.rmtree(dst)
            else:
                os.unlink(dst)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
        copied += 1
    seen_dirs = []
    for root, dirs, files in os.walk(dest):
        rel_root = os.path.relpath(root, dest)
        rel_root = '' if rel_root == '.' else rel_root
        dirs[:] = [d for d in dirs if not kept(os.path.join(rel_root, d))]
        if rel_root:
            seen_dirs.append(root)
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            rel = os.path.join(rel_root, name)
            if rel not in wanted_set:
                os.unlink(os.path.join(root, name))
                removed += 1
    for root in reversed(seen_dirs):
        if not os.listdir(root) and not os.path.islink(root):
            os.rmdir(root)
    if not os.path.isdir(os.path.join(dest, '.git')):
        subprocess.run(['git', 'init', '-q', dest], check=True)
    print('synced %s: %d files, %d copied, %d removed' % (dest, len(wanted), copied, removed))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
