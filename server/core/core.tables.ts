import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface SettingsTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  updated_at: Timestamp;
}

export interface RateLimitsTable {
  key: string;
  window_start: ColumnType<Date, Date | string, Date | string>;
  hits: ColumnType<number, number | undefined, number>;
}

export interface CoreTables {
  settings: SettingsTable;
  rate_limits: RateLimitsTable;
}
