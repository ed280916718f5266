# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What LIO gives a new object, read from the test VM (Debian 12, kernel 6.1, rtslib-fb
2.1.75; tests/fixtures/iscsi/ holds the captured trees these come from).

Used for two things only: the names of attributes and parameters a NEW object accepts
(an existing object is checked against its own configfs entries), and the predicted tree
of check mode. Other kernels may add names; an attribute missing here is refused for new
objects with the list of known names, so the user learns it before anything runs.
"""

from __future__ import annotations

TPG_ATTRIBUTES = {
    "authentication": 1, "cache_dynamic_acls": 0, "default_cmdsn_depth": 64, "default_erl": 0,
    "demo_mode_discovery": 1, "demo_mode_write_protect": 1, "fabric_prot_type": 0,
    "generate_node_acls": 0, "login_keys_workaround": 1, "login_timeout": 15, "netif_timeout": 2,
    "prod_mode_write_protect": 0, "t10_pi": 0, "tpg_enabled_sendtargets": 1,
}

TPG_PARAMETERS = {
    "AuthMethod": "CHAP", "DataDigest": "CRC32C,None", "DataPDUInOrder": "Yes",
    "DataSequenceInOrder": "Yes", "DefaultTime2Retain": "20", "DefaultTime2Wait": "2",
    "ErrorRecoveryLevel": "0", "FirstBurstLength": "65536", "HeaderDigest": "CRC32C,None",
    "IFMarkInt": "Reject", "IFMarker": "No", "ImmediateData": "Yes", "InitialR2T": "Yes",
    "MaxBurstLength": "262144", "MaxConnections": "1", "MaxOutstandingR2T": "1",
    "MaxRecvDataSegmentLength": "8192", "MaxXmitDataSegmentLength": "262144", "OFMarkInt": "Reject",
    "OFMarker": "No", "TargetAlias": "LIO Target",
}

ACL_ATTRIBUTES = {
    "authentication": -1, "dataout_timeout": 3, "dataout_timeout_retries": 5, "default_erl": 0,
    "nopin_response_timeout": 30, "nopin_timeout": 15, "random_datain_pdu_offsets": 0,
    "random_datain_seq_offsets": 0, "random_r2t_offsets": 0,
}

_SO_ATTRIBUTES = {
    "alua_support": 1, "block_size": 512, "emulate_3pc": 1, "emulate_caw": 1, "emulate_dpo": 1,
    "emulate_fua_read": 1, "emulate_fua_write": 1, "emulate_model_alias": 0, "emulate_pr": 1,
    "emulate_rest_reord": 0, "emulate_tas": 1, "emulate_tpu": 0, "emulate_tpws": 0,
    "emulate_ua_intlck_ctrl": 0, "emulate_write_cache": 0, "enforce_pr_isids": 1, "force_pr_aptpl": 0,
    "is_nonrot": 0, "max_unmap_block_desc_count": 1, "max_unmap_lba_count": 8388607,
    "max_write_same_len": 8388607, "optimal_sectors": 2560, "pgr_support": 1, "pi_prot_format": 0,
    "pi_prot_type": 0, "pi_prot_verify": 0, "queue_depth": 128, "unmap_granularity": 8,
    "unmap_granularity_alignment": 0, "unmap_zeroes_data": 0,
}

BACKSTORE_ATTRIBUTES = {
    "block": dict(_SO_ATTRIBUTES),
    "fileio": dict(_SO_ATTRIBUTES, max_unmap_lba_count=8192, max_write_same_len=4096,
                   optimal_sectors=16384, unmap_granularity=1),
}

# Secure defaults the module applies to every TPG it manages, unless the user sets them:
# no demo mode (no ACLs generated for any initiator that knocks, no discovery of the
# target by initiators without an ACL), no cached dynamic ACLs.
SECURE_TPG_ATTRIBUTES = {
    "generate_node_acls": 0,
    "demo_mode_discovery": 0,
    "demo_mode_write_protect": 1,
    "cache_dynamic_acls": 0,
}

# The values the kernel takes for the attributes a user sets (Linux 6.1
# drivers/target/iscsi/iscsi_target_tpg.c iscsit_ta_* and iscsi_target_nodeattrib.c
# iscsit_na_*, with the TA_* / NA_* limits of include/target/iscsi/iscsi_target_core.h): a
# value outside is refused by configfs (EINVAL) half-way through a run, so the planner refuses
# it first. (low, high) inclusive, or a tuple of the allowed values.
TPG_ATTRIBUTE_RANGES = {
    "authentication": (0, 1), "cache_dynamic_acls": (0, 1), "default_cmdsn_depth": (1, 512),
    "default_erl": (0, 2), "demo_mode_discovery": (0, 1), "demo_mode_write_protect": (0, 1),
    "fabric_prot_type": {0, 1, 3}, "generate_node_acls": (0, 1), "login_keys_workaround": (0, 1),
    "login_timeout": (5, 30), "netif_timeout": (2, 15), "prod_mode_write_protect": (0, 1),
    "t10_pi": (0, 1), "tpg_enabled_sendtargets": (0, 1),
}
ACL_ATTRIBUTE_RANGES = {
    "dataout_timeout": (2, 60), "dataout_timeout_retries": (1, 15), "default_erl": (0, 2),
    "nopin_response_timeout": (3, 60), "nopin_timeout": (3, 60), "random_datain_pdu_offsets": (0, 1),
    "random_datain_seq_offsets": (0, 1), "random_r2t_offsets": (0, 1),
}
