# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ZFS property tables: every dataset and pool property OpenZFS 2.1 knows, with its kind,
when it can be set, which dataset types it applies to, its short column name (which the
tools accept as an alias) and, for index properties, the values it takes.

The facts come from OpenZFS 2.1.11 (module/zcommon/zfs_prop.c and zpool_prop.c, Linux
build): the name, the attribute (inherit | default | readonly | onetime |
onetime_default), the dataset types (f filesystem, v volume, s snapshot, b bookmark,
p pool), the column name and the index table. Where two index strings map to one value,
the tools print the first one of the table: *_VALUE_ALIASES maps the others to it, so
`xattr=dir` compares equal to the `on` that `zfs get` prints.

Hidden properties (*_HIDDEN) are internal; they are never set by us.
"""

from __future__ import annotations

# name: (kind, attribute, types, column alias or None, index values or None)
DATASET_PROPS = {
    'aclinherit': ('index', 'inherit', 'f', None, ('discard', 'noallow', 'restricted', 'passthrough', 'passthrough-x')),
    'aclmode': ('index', 'inherit', 'f', None, ('discard', 'groupmask', 'passthrough', 'restricted')),
    'acltype': ('index', 'inherit', 'fs', None, ('off', 'posix', 'nfsv4')),
    'atime': ('index', 'inherit', 'f', None, ('off', 'on')),
    'available': ('number', 'readonly', 'fv', 'avail', None),
    'canmount': ('index', 'default', 'f', None, ('off', 'on', 'noauto')),
    'casesensitivity': ('index', 'onetime', 'fs', 'case', ('sensitive', 'insensitive', 'mixed')),
    'checksum': ('index', 'inherit', 'fv', None, ('on', 'off', 'fletcher2', 'fletcher4', 'sha256', 'noparity', 'sha512', 'skein', 'edonr')),
    'clones': ('string', 'readonly', 's', None, None),
    'compression': ('index', 'inherit', 'fv', 'compress', (
        'on', 'off', 'lzjb', 'gzip', 'gzip-1', 'gzip-2', 'gzip-3', 'gzip-4', 'gzip-5', 'gzip-7', 'gzip-8',
        'gzip-9', 'zle', 'lz4', 'zstd', 'zstd-fast', 'zstd-1', 'zstd-2', 'zstd-3', 'zstd-4', 'zstd-5',
        'zstd-6', 'zstd-7', 'zstd-8', 'zstd-9', 'zstd-10', 'zstd-11', 'zstd-12', 'zstd-13', 'zstd-14',
        'zstd-15', 'zstd-16', 'zstd-17', 'zstd-18', 'zstd-19', 'zstd-fast-1', 'zstd-fast-2', 'zstd-fast-3',
        'zstd-fast-4', 'zstd-fast-5', 'zstd-fast-6', 'zstd-fast-7', 'zstd-fast-8', 'zstd-fast-9',
        'zstd-fast-10', 'zstd-fast-20', 'zstd-fast-30', 'zstd-fast-40', 'zstd-fast-50', 'zstd-fast-60',
        'zstd-fast-70', 'zstd-fast-80', 'zstd-fast-90', 'zstd-fast-100', 'zstd-fast-500', 'zstd-fast-1000'
    )),
    'compressratio': ('number', 'readonly', 'fvsb', 'ratio', None),
    'context': ('string', 'default', 'fvs', None, None),
    'copies': ('index', 'inherit', 'fv', None, ('1', '2', '3')),
    'createtxg': ('number', 'readonly', 'fvsb', None, None),
    'creation': ('number', 'readonly', 'fvsb', None, None),
    'dedup': ('index', 'inherit', 'fv', None, (
        'on', 'off', 'verify', 'sha256', 'sha256,verify', 'sha512', 'sha512,verify', 'skein',
        'skein,verify', 'edonr,verify'
    )),
    'defcontext': ('string', 'default', 'fvs', None, None),
    'defer_destroy': ('index', 'readonly', 's', None, ('off', 'on')),
    'devices': ('index', 'inherit', 'fs', None, ('off', 'on')),
    'dnodesize': ('index', 'inherit', 'f', 'dnsize', ('legacy', 'auto', '1k', '2k', '4k', '8k', '16k')),
    'encryption': ('index', 'onetime', 'fvs', None, (
        'on', 'off', 'aes-128-ccm', 'aes-192-ccm', 'aes-256-ccm', 'aes-128-gcm', 'aes-192-gcm',
        'aes-256-gcm'
    )),
    'encryptionroot': ('string', 'readonly', 'fvs', 'encroot', None),
    'exec': ('index', 'inherit', 'fs', None, ('off', 'on')),
    'filesystem_count': ('number', 'readonly', 'f', 'fscount', None),
    'filesystem_limit': ('number', 'default', 'f', 'fslimit', None),
    'fscontext': ('string', 'default', 'fvs', None, None),
    'guid': ('number', 'readonly', 'fvsb', None, None),
    'keyformat': ('index', 'onetime_default', 'fv', None, ('none', 'raw', 'hex', 'passphrase')),
    'keylocation': ('string', 'default', 'fv', None, None),
    'keystatus': ('index', 'readonly', 'fvs', None, ('none', 'unavailable', 'available')),
    'logbias': ('index', 'inherit', 'fv', None, ('latency', 'throughput')),
    'logicalreferenced': ('number', 'readonly', 'fvsb', 'lrefer', None),
    'logicalused': ('number', 'readonly', 'fv', 'lused', None),
    'mlslabel': ('string', 'inherit', 'fvs', None, None),
    'mounted': ('index', 'readonly', 'f', None, ('off', 'on')),
    'mountpoint': ('string', 'inherit', 'f', None, None),
    'nbmand': ('index', 'inherit', 'fs', None, ('off', 'on')),
    'normalization': ('index', 'onetime', 'fs', None, ('none', 'formD', 'formKC', 'formC', 'formKD')),
    'objsetid': ('number', 'readonly', 'fvs', None, None),
    'origin': ('string', 'readonly', 'fv', None, None),
    'overlay': ('index', 'inherit', 'f', None, ('off', 'on')),
    'pbkdf2iters': ('number', 'onetime_default', 'fv', None, None),
    'primarycache': ('index', 'inherit', 'fvs', None, ('none', 'metadata', 'all')),
    'quota': ('number', 'default', 'f', None, None),
    'readonly': ('index', 'inherit', 'fv', 'rdonly', ('off', 'on')),
    'receive_resume_token': ('string', 'readonly', 'fv', 'resumetok', None),
    'recordsize': ('number', 'inherit', 'f', 'recsize', None),
    'redact_snaps': ('string', 'readonly', 'fvsb', 'rsnaps', None),
    'redundant_metadata': ('index', 'inherit', 'fv', 'redund_md', ('all', 'most', 'some', 'none')),
    'refcompressratio': ('number', 'readonly', 'fvs', 'refratio', None),
    'referenced': ('number', 'readonly', 'fvsb', 'refer', None),
    'refquota': ('number', 'default', 'f', None, None),
    'refreservation': ('number', 'default', 'fv', 'refreserv', None),
    'relatime': ('index', 'inherit', 'f', None, ('off', 'on')),
    'reservation': ('number', 'default', 'fv', 'reserv', None),
    'rootcontext': ('string', 'default', 'fvs', None, None),
    'secondarycache': ('index', 'inherit', 'fvs', None, ('none', 'metadata', 'all')),
    'setuid': ('index', 'inherit', 'fs', None, ('off', 'on')),
    'sharenfs': ('string', 'inherit', 'f', None, None),
    'sharesmb': ('string', 'inherit', 'f', None, None),
    'snapdev': ('index', 'inherit', 'fv', None, ('hidden', 'visible')),
    'snapdir': ('index', 'inherit', 'f', None, ('hidden', 'visible')),
    'snapshot_count': ('number', 'readonly', 'fv', 'sscount', None),
    'snapshot_limit': ('number', 'default', 'fv', 'sslimit', None),
    'special_small_blocks': ('number', 'inherit', 'f', None, None),
    'sync': ('index', 'inherit', 'fv', None, ('standard', 'always', 'disabled')),
    'type': ('string', 'readonly', 'fvsb', None, None),
    'used': ('number', 'readonly', 'fvs', None, None),
    'usedbychildren': ('number', 'readonly', 'fv', 'usedchild', None),
    'usedbydataset': ('number', 'readonly', 'fv', 'usedds', None),
    'usedbyrefreservation': ('number', 'readonly', 'fv', 'usedrefreserv', None),
    'usedbysnapshots': ('number', 'readonly', 'fv', 'usedsnap', None),
    'userrefs': ('number', 'readonly', 's', None, None),
    'utf8only': ('index', 'onetime', 'fs', None, ('off', 'on')),
    'version': ('index', 'default', 'fs', None, ('1', '2', '3', '4', '5', 'current')),
    'volblocksize': ('number', 'onetime', 'v', 'volblock', None),
    'volmode': ('index', 'inherit', 'fv', None, ('default', 'full', 'dev', 'none')),
    'volsize': ('number', 'default', 'vs', None, None),
    'vscan': ('index', 'inherit', 'f', None, ('off', 'on')),
    'written': ('number', 'readonly', 'fvs', None, None),
    'xattr': ('index', 'inherit', 'fs', None, ('off', 'on', 'sa')),
    'zoned': ('index', 'inherit', 'f', None, ('off', 'on')),
}
DATASET_PROPS_VALUE_ALIASES = {
    'aclinherit': {'secure': 'restricted'},
    'acltype': {'disabled': 'off', 'noacl': 'off', 'posixacl': 'posix'},
    'compression': {'gzip-6': 'gzip'},
    'volmode': {'geom': 'full'},
    'xattr': {'dir': 'on'},
}
DATASET_PROPS_HIDDEN = (
    'inconsistent', 'iscsioptions', 'ivsetguid', 'keyguid', 'name', 'numclones', 'pbkdf2salt',
    'prevsnap', 'redacted', 'remaptxg', 'stmf_sbd_lu', 'unique', 'useraccounting',
)
POOL_PROPS = {
    'allocated': ('number', 'readonly', 'p', 'alloc', None),
    'altroot': ('string', 'default', 'p', None, None),
    'ashift': ('number', 'default', 'p', None, None),
    'autoexpand': ('index', 'default', 'p', 'expand', ('off', 'on')),
    'autoreplace': ('index', 'default', 'p', 'replace', ('off', 'on')),
    'autotrim': ('index', 'default', 'p', None, ('off', 'on')),
    'bootfs': ('string', 'default', 'p', None, None),
    'cachefile': ('string', 'default', 'p', None, None),
    'capacity': ('number', 'readonly', 'p', 'cap', None),
    'checkpoint': ('number', 'readonly', 'p', 'ckpoint', None),
    'comment': ('string', 'default', 'p', None, None),
    'compatibility': ('string', 'default', 'p', None, None),
    'dedupratio': ('number', 'readonly', 'p', 'dedup', None),
    'delegation': ('index', 'default', 'p', None, ('off', 'on')),
    'expandsize': ('number', 'readonly', 'p', 'expandsz', None),
    'failmode': ('index', 'default', 'p', None, ('wait', 'continue', 'panic')),
    'fragmentation': ('number', 'readonly', 'p', 'frag', None),
    'free': ('number', 'readonly', 'p', None, None),
    'freeing': ('number', 'readonly', 'p', None, None),
    'guid': ('number', 'readonly', 'p', None, None),
    'health': ('number', 'readonly', 'p', None, None),
    'leaked': ('number', 'readonly', 'p', None, None),
    'listsnapshots': ('index', 'default', 'p', 'listsnaps', ('off', 'on')),
    'load_guid': ('number', 'readonly', 'p', None, None),
    'multihost': ('index', 'default', 'p', None, ('off', 'on')),
    'readonly': ('index', 'default', 'p', 'rdonly', ('off', 'on')),
    'size': ('number', 'readonly', 'p', None, None),
    'version': ('number', 'default', 'p', None, None),
}
POOL_PROPS_VALUE_ALIASES = {}
POOL_PROPS_HIDDEN = ('dedupditto', 'maxblocksize', 'maxdnodesize', 'name', 'tname')
