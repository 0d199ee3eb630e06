// Placeholder page of the curves panel (replaced by the panel's implementation).
import '../common/base.css';
import { installErrorReporting, post } from '../common/host.js';

installErrorReporting('curves');
document.getElementById('app')!.textContent = 'BERT Lab curves';
post({ type: 'ready' });
