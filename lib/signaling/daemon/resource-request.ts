// A request on a WHEP/WHIP resource (GET, PATCH, DELETE) as data, and its answer as data: the owning
// instance answers it the same way whether it came over HTTP to itself or from another instance of a
// cluster over the bus (lib/signaling/cluster/forward.ts). Types only: the single-process daemon
// loads nothing of the cluster.

export type ResourceKind = 'whep' | 'whip';
export type ResourceMethod = 'GET' | 'PATCH' | 'DELETE';

export interface ResourceRequest {
  kind: ResourceKind;
  method: ResourceMethod;
  session: string;
  id: string;
  contentType: string | undefined;
  ifMatch: string | undefined;
  /** The PATCH body (an sdpfrag); '' when none or not text. */
  body: string;
  /**
   * SHA-256 (base64url) of the bearer token presented, undefined for none. Never the token itself:
   * the owner compares it with the hash it stored at the POST.
   */
  tokenHash: string | undefined;
}

export interface ResourceReply {
  status: number;
  headers: Record<string, string>;
  /** A JSON body ({error}); absent: no content. */
  body?: { error: string };
}

/** Where a resource another instance created lives, from Redis (`undefined`: nobody holds that id). */
export interface ResourceOwner {
  instance: string;
  /** Its instance key exists: it heartbeats. A dead owner's resources are gone. */
  alive: boolean;
  /** What the id is on its instance: a WHEP or WHIP resource, or any other participant (undefined). */
  kind: ResourceKind | undefined;
}

/** What whep.ts needs of the cluster to answer for resources held elsewhere. */
export interface ResourceLink {
  readonly id: string;
  /** Throws RelayError('cluster-unavailable') when Redis cannot be asked. */
  locate(session: string, id: string): Promise<ResourceOwner | undefined>;
  /** The owner's answer, or 503 + Retry-After when it does not answer in time (never hangs). */
  forward(instance: string, request: ResourceRequest): Promise<ResourceReply>;
  /** Sets how this instance answers forwarded requests for its own resources. */
  serveResources(answer: (request: ResourceRequest) => ResourceReply): void;
}
