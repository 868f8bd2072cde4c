/** Re-renders a component when its workspace's channels change (at most once per animation frame). */
import type { ReactiveController, ReactiveControllerHost } from "lit";
import type { Channel, Workspace } from "../workspace.js";

export class WorkspaceController implements ReactiveController {
  private off: (() => void) | undefined;
  private bound: Workspace | undefined;

  constructor(
    private readonly host: ReactiveControllerHost & { workspace?: Workspace },
    private readonly channels: Channel[],
    private readonly onChange?: () => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.bind();
  }

  hostUpdate(): void {
    if (this.bound !== this.host.workspace) this.bind();
  }

  hostDisconnected(): void {
    this.off?.();
    this.off = undefined;
    this.bound = undefined;
  }

  private bind(): void {
    this.off?.();
    this.bound = this.host.workspace;
    this.off = this.bound?.on(this.channels, () => {
      this.onChange?.();
      this.host.requestUpdate();
    });
  }
}
