import type { AccessConfig } from '../config/types';
import { CidrSet } from '../net/cidr-set';
import type { CompiledAccess } from './chain';

export function compileAccess(access: AccessConfig): CompiledAccess {
  return {
    cidrAllow: access.cidr.allow.length > 0 ? new CidrSet(access.cidr.allow) : undefined,
    cidrDeny: access.cidr.deny.length > 0 ? new CidrSet(access.cidr.deny) : undefined,
    countryAllow: access.countries.allow.length > 0 ? new Set(access.countries.allow) : undefined,
    countryDeny: access.countries.deny.length > 0 ? new Set(access.countries.deny) : undefined,
    crowdsec: access.crowdsec,
    challenge: access.challenge.mode === 'off' ? undefined : access.challenge,
  };
}
