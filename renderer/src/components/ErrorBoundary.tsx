// A panel or view that throws while drawing shows what failed and a way back, instead of
// taking the whole window blank with it (React unmounts everything above an uncaught error).
import { Component, type ReactNode } from 'react';

interface Props { what: string; children: ReactNode; /** When it changes (another run, another lab), a failed view tries again. */ resetKey?: unknown }

export class ErrorBoundary extends Component<Props, { error?: Error }> {
  state: { error?: Error } = {};

  static getDerivedStateFromError(error: Error) { return { error }; }

  componentDidUpdate(prev: Props) {
    if (this.state.error && prev.resetKey !== this.props.resetKey) this.setState({ error: undefined });
  }

  render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="view-error" role="alert" data-testid="view-error">
        <b>The {this.props.what} could not be drawn</b>: {error.message || String(error)}
        <div className="muted small">The rest of the app works; the run's data is unchanged.</div>
        <button onClick={() => this.setState({ error: undefined })}>Try again</button>
      </div>
    );
  }
}
