/** Committed deliveries of one owner, handed on together so that a worker can share its room fairly between owners. */
export interface OwnedDeliveries {
  owner: string;
  ids: string[];
}

/** Groups `(owner, id)` pairs by owner, in order of first appearance. */
export function groupByOwner(pairs: Iterable<{ owner: string; id: string }>): OwnedDeliveries[] {
  const groups = new Map<string, string[]>();
  for (const { owner, id } of pairs) {
    const ids = groups.get(owner);
    if (ids) ids.push(id);
    else groups.set(owner, [id]);
  }
  return [...groups].map(([owner, ids]) => ({ owner, ids }));
}
