import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface FedifyKvTable {
  /** The Fedify key parts joined with U+001F (a character no key part contains). */
  key: string;
  value: ColumnType<unknown, string, string>;
  expires_at: Date | null;
}

export interface FederationKeysTable {
  kind: 'rsa' | 'ed25519';
  private_jwk: ColumnType<JsonWebKey, string, string>;
  public_jwk: ColumnType<JsonWebKey, string, string>;
  created_at: Timestamp;
}

export interface RemoteActorsTable {
  id: string;
  handle: string | null;
  name: string | null;
  url: string | null;
  inbox: string;
  shared_inbox: string | null;
  fetched_at: Timestamp;
}

export type FollowStatus = 'pending' | 'accepted' | 'rejected';

/** Networks this instance follows. */
export interface FollowsTable {
  id: Generated<string>;
  actor_id: string;
  handle: string | null;
  name: string | null;
  inbox: string;
  shared_inbox: string | null;
  follow_activity_id: string;
  status: FollowStatus;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Actors that follow this instance. */
export interface FollowersTable {
  id: Generated<string>;
  actor_id: string;
  handle: string | null;
  name: string | null;
  inbox: string;
  shared_inbox: string | null;
  host: string;
  follow_activity_id: string;
  status: 'pending' | 'accepted';
  created_at: Timestamp;
}

export interface BlocksTable {
  id: Generated<string>;
  kind: 'host' | 'actor';
  value: string;
  created_at: Timestamp;
}

export interface DeliveryHostsTable {
  host: string;
  failures: Generated<number>;
  last_failure_at: Date | null;
  last_success_at: Date | null;
  unreachable_until: Date | null;
}

export interface FederationTables {
  fedify_kv: FedifyKvTable;
  federation_keys: FederationKeysTable;
  federation_remote_actors: RemoteActorsTable;
  federation_follows: FollowsTable;
  federation_followers: FollowersTable;
  federation_blocks: BlocksTable;
  federation_delivery_hosts: DeliveryHostsTable;
}
