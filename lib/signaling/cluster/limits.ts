// The limits that must hold across instances, checked and recorded in one Lua script (Redis runs a
// script atomically, so two instances admitting at once cannot both take the last slot): one publisher
// per session, and the participants-per-token cap (the daemon's `maxJoinsPerToken`, which counts
// WebSocket and WHEP participants together). The errors are the single process's: `publisher-exists`
// and `token-in-use`. The per-IP socket cap stays per instance: it guards one process's sockets.
import { RelayError } from '../daemon/sessions.js';

/**
 * KEYS: session hash, token hash (the session hash again when there is no token).
 * ARGV: peer id, this instance, entry JSON, role, token cap (0: none), TTL ms, instance key prefix, and
 * the instance whose entry for the id may be replaced although its key lives ('' none: a takeover
 * after a probe found it gone, takeover.ts).
 * Returns {'ok', id, entry, …} (the session's live entries after the join), {'id-held', id, owner},
 * or {code, detail}.
 * Entries of dead instances (no instance key) neither hold the seat nor count against a token; the
 * token's are dropped here, the session's by the sweep of a live instance (it tells its participants).
 */
export const ADMIT_LUA = `
local live = {}
local function alive(i)
  if live[i] == nil then live[i] = redis.call('EXISTS', ARGV[7] .. i) == 1 end
  return live[i]
end
local all = redis.call('HGETALL', KEYS[1])
for n = 1, #all, 2 do
  local e = cjson.decode(all[n + 1])
  if all[n] == ARGV[1] then
    if e.i ~= ARGV[2] and e.i ~= ARGV[8] and alive(e.i) then return {'id-held', all[n], e.i} end
  elseif ARGV[4] == 'publisher' and e.r == 'publisher' and alive(e.i) then
    return {'publisher-exists', all[n]}
  end
end
local max = tonumber(ARGV[5])
if max > 0 and KEYS[2] ~= KEYS[1] then
  local holders = redis.call('HGETALL', KEYS[2])
  local held = 0
  for n = 1, #holders, 2 do
    if holders[n] ~= ARGV[1] then
      if alive(holders[n + 1]) then held = held + 1 else redis.call('HDEL', KEYS[2], holders[n]) end
    end
  end
  if held >= max then return {'token-in-use', tostring(held)} end
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
local out = {'ok'}
all = redis.call('HGETALL', KEYS[1])
for n = 1, #all, 2 do
  if alive(cjson.decode(all[n + 1]).i) then
    out[#out + 1] = all[n]
    out[#out + 1] = all[n + 1]
  end
end
return out
`;

export type AdmitResult = { held: string } | { entries: [string, string][] };

/** The script's reply as entries, `held` (by that live instance), or the single process's RelayError. */
export function admitResult(reply: string[], session: string, maxPerToken: number): AdmitResult {
  const [status, ...rest] = reply;
  if (status === 'id-held') return { held: String(rest[1]) };
  if (status === 'publisher-exists') throw new RelayError('publisher-exists', `session ${session} already has a publisher`);
  if (status === 'token-in-use') throw new RelayError('token-in-use', `this token already holds ${maxPerToken} concurrent connections`);
  if (status !== 'ok') throw new RelayError('internal', `unexpected reply from the cluster's admission script: ${String(status)}`);
  const entries: [string, string][] = [];
  for (let n = 0; n + 1 < rest.length; n += 2) entries.push([rest[n]!, rest[n + 1]!]);
  return { entries };
}
