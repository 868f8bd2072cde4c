/** One tab: connect, status, subscriptions and publish on the side; messages; topic tree and chart. */
import { css, html, LitElement, nothing } from "lit";
import { customElement, property, query } from "lit/decorators.js";
import type { Workspace } from "../workspace.js";
import "./connect-form.js";
import "./connection-status.js";
import type { MessageLogView } from "./message-log-view.js";
import "./message-log-view.js";
import type { PublishPanel } from "./publish-panel.js";
import "./publish-panel.js";
import "./subscriptions-panel.js";
import "./topic-tree-view.js";
import "./value-chart.js";

@customElement("connection-view")
export class ConnectionView extends LitElement {
  static override styles = css`
    :host {
      display: block;
    }
    :host([hidden]) {
      display: none;
    }
    .layout {
      display: grid;
      gap: 0.75rem;
      grid-template-columns: minmax(18rem, 22rem) minmax(0, 1fr) minmax(16rem, 24rem);
      grid-template-areas: "side log tree";
      align-items: start;
    }
    .side,
    .aside {
      display: flex;
      flex-direction: column;
      gap: 0.75rem;
      min-width: 0;
    }
    .side {
      grid-area: side;
    }
    .aside {
      grid-area: tree;
    }
    message-log-view {
      grid-area: log;
      height: calc(100vh - 6.5rem);
      min-height: 24rem;
      position: sticky;
      top: 0.5rem;
    }
    @media (max-width: 1180px) {
      .layout {
        grid-template-columns: minmax(17rem, 21rem) minmax(0, 1fr);
        grid-template-areas: "side log" "tree tree";
      }
      .aside {
        flex-direction: row;
        flex-wrap: wrap;
      }
      .aside > * {
        flex: 1 1 20rem;
      }
    }
    @media (max-width: 760px) {
      .layout {
        grid-template-columns: minmax(0, 1fr);
        grid-template-areas: "side" "log" "tree";
      }
      message-log-view {
        position: static;
        height: auto;
      }
      .aside {
        flex-direction: column;
      }
    }
  `;
  @property({ attribute: false }) workspace?: Workspace;
  @query("message-log-view") private logView?: MessageLogView;
  @query("publish-panel") private publishPanel?: PublishPanel;

  override render() {
    const ws = this.workspace;
    if (!ws) return nothing;
    return html`<div
      class="layout"
      @filter-topic=${(e: CustomEvent<string>) => this.logView?.filterTopic(e.detail)}
      @chart-topic=${(e: CustomEvent<string>) => ws.setChart(e.detail, "")}
      @reply=${(e: CustomEvent<{ topic: string; correlation: string }>) => this.publishPanel?.load({ topic: e.detail.topic, props: { correlationData: e.detail.correlation } as never })}
    >
      <div class="side">
        <connection-status .workspace=${ws}></connection-status>
        <connect-form .workspace=${ws}></connect-form>
        <subscriptions-panel .workspace=${ws}></subscriptions-panel>
        <publish-panel .workspace=${ws}></publish-panel>
      </div>
      <message-log-view .workspace=${ws}></message-log-view>
      <div class="aside">
        <topic-tree-view .workspace=${ws}></topic-tree-view>
        <value-chart .workspace=${ws}></value-chart>
      </div>
    </div>`;
  }
}
