// The rollout guardrail's loop: every second, each live rollout with a rule has its candidate's window judged; a breach rolls it back, naming the numbers.
import type { Clock } from '../../core/clock.js';
import { PeriodicLoop } from '../../core/periodic.js';
import { judge, type WindowFigures } from './guardrail-rule.js';
import type { RollbackCause } from './rollouts.js';
import type { RolloutStore } from './rollout-store.js';

export interface GuardrailDeps {
  readonly clock: Clock;
  readonly rollouts: Pick<RolloutStore, 'list'>;
  /** Whether an operation runs on the service (a promote or rollback under way is left alone). */
  readonly busy: (service: string) => boolean;
  /** The candidate's figures over (up to) `windowMs`, from the gateway; undefined before any routing. */
  readonly figures: (service: string, generation: number, windowMs: number) => WindowFigures | undefined;
  readonly rollback: (service: string, cause: RollbackCause) => void;
  readonly onError: (service: string, err: unknown) => void;
  /** How often rollouts are judged (default 1 s). */
  readonly periodMs?: number;
}

export class Guardrail {
  // Listing the rollouts can fail (the store is closing?): the loop goes on regardless.
  private readonly loop: PeriodicLoop;

  constructor(private readonly d: GuardrailDeps) {
    this.loop = new PeriodicLoop(d.clock, d.periodMs ?? 1000, () => this.tick(), (err) => d.onError('*', err));
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** One pass (the timer calls it; tests may too): returns the services it rolled back. */
  tick(): string[] {
    const rolled: string[] = [];
    for (const r of this.d.rollouts.list()) {
      if (r.state !== 'Live' || r.guardrail === undefined || this.d.busy(r.service)) continue;
      try {
        const f = this.d.figures(r.service, r.generation, r.guardrail.window_ms);
        if (f === undefined) continue;
        const verdict = judge(r.guardrail, f);
        if (!verdict.breached) continue;
        this.d.rollback(r.service, { message: verdict.message, numbers: verdict.numbers });
        rolled.push(r.service);
      } catch (err) {
        this.d.onError(r.service, err);
      }
    }
    return rolled;
  }
}
