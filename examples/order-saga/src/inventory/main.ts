// The inventory service's process: node dist/inventory/main.js (with ORDER_SAGA_CONFIG set).
import { main } from '../service.js';
import { startInventoryService } from './service.js';

main('inventory', startInventoryService);
