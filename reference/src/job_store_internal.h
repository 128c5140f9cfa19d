/* SPDX-License-Identifier: Apache-2.0
 *
 * job_store_internal.h - what the job store shares with its own tests only.
 */
#ifndef REF_JOB_STORE_INTERNAL_H
#define REF_JOB_STORE_INTERNAL_H

#include "ref/slice.h"

#include <stdint.h>

/* The hash of the Id indexes; id is REF_ID_LEN bytes. Its low bits pick a slot, so every
 * byte of the Id must reach them. */
uint64_t ref_job_store_id_hash(struct ref_slice id);

#endif
