import { createHash } from 'node:crypto';

/**
 * What the semantic and predictive caches keep of an end user's id (a request's `user`, a string of any length):
 * its SHA-256 in base64url, 43 characters whatever the id's length; '' (no user) stays ''. Every place that
 * compares a kept user id (per-user erasure, the predictive cache's sequences) compares these keys.
 */
export function userKey(user: string): string {
  return user === '' ? '' : createHash('sha256').update(user, 'utf8').digest('base64url');
}
