import type Redis from 'ioredis';

/**
 * XTRIM MINID, lowered so that no consumer group loses an entry it has not acked: for each group
 * the floor is its oldest pending entry, or (nothing pending) the entry after its last-delivered
 * id. Runs as one script so a read that races the trim cannot slip between the check and the cut.
 * Returns how many entries went, whether entries below `minId` had to stay, and which groups kept them.
 */
const SAFE_TRIM_SCRIPT = `
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  if am ~= bm then return am < bm end
  return as < bs
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, {}} end
local floor = ARGV[1]
local holders = {}
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local summary = redis.call('XPENDING', KEYS[1], info['name'])
  local limit
  if summary[1] > 0 then
    limit = summary[2]
  else
    local ms, seq = string.match(info['last-delivered-id'], '^(%d+)-(%d+)$')
    limit = ms .. '-' .. string.format('%d', tonumber(seq) + 1)
  end
  if less(limit, ARGV[1]) then table.insert(holders, {info['name'], limit}) end
  if less(limit, floor) then floor = limit end
end
local removed = redis.call('XTRIM', KEYS[1], 'MINID', floor)
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
local held = 0
if first and less(first[1], ARGV[1]) then held = 1 end
-- a group holds the trim when entries it has not acked (or not read) stay below the target
local heldBy = {}
for _, h in ipairs(holders) do
  if #redis.call('XRANGE', KEYS[1], h[2], '(' .. ARGV[1], 'COUNT', 1) > 0 then table.insert(heldBy, h[1]) end
end
return {removed, held, heldBy}
`;

interface SafeTrimRedis extends Redis {
  mupetsSafeTrim(key: string, minId: string): Promise<[number, number, string[]]>;
}

export function defineSafeTrim(redis: Redis): void {
  redis.defineCommand('mupetsSafeTrim', { numberOfKeys: 1, lua: SAFE_TRIM_SCRIPT });
}

/** Removes entries below `minId` that every group has acked. */
export async function safeTrim(
  redis: Redis,
  key: string,
  minId: string,
): Promise<{ removed: number; held: boolean; heldBy: string[] }> {
  const [removed, held, heldBy] = await (redis as SafeTrimRedis).mupetsSafeTrim(key, minId);
  return { removed, held: held === 1, heldBy };
}
