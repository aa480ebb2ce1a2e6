/*
 * Cloud profiles: `profile: azure | aws | gcp | alibaba` on a tunnel or
 * a BGP neighbour fills that cloud's defaults where the file is silent
 * and refuses what breaks one of the cloud's documented rules.  Every
 * rule has an id (the one in cloud-vpn-requirements.md) and its source;
 * `profile_override: [ID, ...]` switches single rules off.  The rule
 * tables live in profile.c; config.c only calls the functions below.
 * See minigw.conf(5), PROFILES.
 */
#ifndef MGW_PROFILE_H
#define MGW_PROFILE_H

#include <stddef.h>
#include <stdio.h>

#define MGW_PROFILE_NONE    0
#define MGW_PROFILE_AZURE   1
#define MGW_PROFILE_AWS     2
#define MGW_PROFILE_GCP     3
#define MGW_PROFILE_ALIBABA 4

#define MGW_OVR_MAX    16 /* rule ids in one profile_override list */
#define MGW_RULEID_MAX 24 /* "AWS-PSK-1" and the like, with the NUL */

struct mgw_config;

/* "aws" for MGW_PROFILE_AWS; "none" for MGW_PROFILE_NONE. */
const char *mgw_profile_name(int profile);
/* The source of rule id, or NULL when id is not a rule of profile. */
const char *mgw_profile_rule_source(int profile, const char *id);
/*
 * After parsing, before mgw_config_check(): neighbours without a
 * profile take their tunnel's, overrides are checked to name rules of
 * the profile, defaults are filled where no key was given, then every
 * rule not overridden is checked.  0, or -1 with
 * "FILE:LINE: FIELD: RULE-ID: what is wrong (source)" in err.
 */
int mgw_profile_apply(struct mgw_config *c, char *err, size_t errlen);
/* --print: profile, profile_override and a comment naming what each
 * override switched off, at indent ind (nothing without a profile). */
void mgw_profile_print(FILE *f, const char *ind, int profile,
    const char (*ovr)[MGW_RULEID_MAX], int n_ovr);

#endif /* MGW_PROFILE_H */
