// The shape of one catalogue entry: its HTTP status, and the message and fix templates (`{name}` filled from params).
export interface ErrorEntry {
  readonly status: number;
  readonly message: string;
  readonly fix: string;
}
