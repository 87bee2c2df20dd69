// Presence: who is in which session and on which instance, in Redis. A session is a hash (peer id →
// entry naming the owning instance); an instance is alive while its key exists. Every instance
// refreshes its own key and the TTL of each session and token hash it has participants in at every
// heartbeat, so what a dead instance held expires on its own, and live instances sweep its entries
// from the sessions they share with it (telling their own participants peer-left).

/**
 * Lua: appends to `out` the entries of the session hash KEYS[1] whose instance key (`prefix` .. id)
 * exists, and returns it. Ends REMOVE_LUA and LIVE_LUA.
 */
function appendLiveEntries(prefix: string): string {
  return `
local live = {}
local all = redis.call('HGETALL', KEYS[1])
for n = 1, #all, 2 do
  local i = cjson.decode(all[n + 1]).i
  if live[i] == nil then live[i] = redis.call('EXISTS', ${prefix} .. i) == 1 end
  if live[i] then
    out[#out + 1] = all[n]
    out[#out + 1] = all[n + 1]
  end
end
return out
`;
}

/**
 * Removes one participant's entry if `owner` still owns it, and its token slot.
 * KEYS: session hash, token hash (the session hash again when none). ARGV: peer id, owner, instance key prefix.
 * Returns {status, id, entry, …}: status `removed`, `gone` (not there: Redis lost it) or `moved` (another
 * instance owns the id now: a resumed participant), then the live entries left.
 */
export const REMOVE_LUA = `
local status = 'gone'
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then
  if cjson.decode(v).i == ARGV[2] then
    redis.call('HDEL', KEYS[1], ARGV[1])
    status = 'removed'
  else
    status = 'moved'
  end
end
if KEYS[2] ~= KEYS[1] and redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[1]) end
local out = {status}
${appendLiveEntries('ARGV[3]')}`;

/**
 * Puts a participant back after Redis lost it (a restart) or after an outage: only where the id is
 * free, ours already, or owned by a dead instance. KEYS: session hash, token hash (or the session hash).
 * ARGV: peer id, this instance, entry JSON, TTL ms, instance key prefix. Returns {} when another live
 * instance owns the id, else {'ok', id, entry, …} with the session's entries (to tell their instances).
 */
export const RESTORE_LUA = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then
  local owner = cjson.decode(v).i
  if owner ~= ARGV[2] and redis.call('EXISTS', ARGV[5] .. owner) == 1 then return {} end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if KEYS[2] ~= KEYS[1] then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
local out = {'ok'}
local all = redis.call('HGETALL', KEYS[1])
for n = 1, #all, 2 do
  out[#out + 1] = all[n]
  out[#out + 1] = all[n + 1]
end
return out
`;

/** The live entries of a session (those whose instance key exists). KEYS: session hash. ARGV: instance key prefix. */
export const LIVE_LUA = `
local out = {}
${appendLiveEntries('ARGV[1]')}`;

/** A flat [field, value, …] reply as pairs. */
export function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let n = 0; n + 1 < flat.length; n += 2) out.push([flat[n]!, flat[n + 1]!]);
  return out;
}

/** What an instance's key holds: its own counts, read by every instance's /metrics for the cluster's. */
export interface InstanceSummary {
  sessions: string[];
  publishers: number;
  viewers: number;
}

export interface ClusterCounts {
  instances: number;
  sessions: number;
  publishers: number;
  viewers: number;
}

/** The cluster's counts from every live instance's summary (a session on two instances counts once). */
export function sumSummaries(values: (string | null)[]): ClusterCounts {
  const sessions = new Set<string>();
  let instances = 0;
  let publishers = 0;
  let viewers = 0;
  for (const value of values) {
    if (!value) continue;
    try {
      const s = JSON.parse(value) as InstanceSummary;
      instances++;
      for (const name of s.sessions ?? []) sessions.add(name);
      publishers += s.publishers ?? 0;
      viewers += s.viewers ?? 0;
    } catch {
      // a foreign value under our prefix: not an instance of ours
    }
  }
  return { instances, sessions: sessions.size, publishers, viewers };
}

/**
 * Where participant ARGV[1] of the session hash KEYS[1] lives (a WHEP/WHIP request another instance
 * took, forward.ts). ARGV: peer id, instance key prefix. Returns {} when no entry holds the id, else
 * {instance, 1 if its key exists (alive) else 0, resource kind or ''}.
 */
export const OWNER_LUA = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return {} end
local e = cjson.decode(v)
return {e.i, redis.call('EXISTS', ARGV[2] .. e.i), e.w or ''}
`;
